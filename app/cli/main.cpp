// transcura-cli: the command-line face of Transcura. One sub-command per cmd_*.cpp.
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "commands.hpp"

namespace {

struct Command {
    const char* name;
    int (*run)(const cli::Args&);
    const char* usage;
};

const Command kCommands[] = {
    {"info", cli::info,
     "info FILE [--json] [--checksum] [--genome G] "
     "[--orientation auto|genes-by-cells|cells-by-genes] [--sample-sheet FILE]"},
    {"convert", cli::convert,
     "convert IN OUT [--to h5ad|loom|mtx|csv|tsv] [--overwrite] [--compression 0-9] [--genome G] "
     "[--orientation auto|genes-by-cells|cells-by-genes] [--sample-sheet FILE]"},
    {"run", cli::run,
     "run IN -o OUT.h5ad [--batch-key K] [--min-genes 200] [--max-pct-mt 20] [--n-hvg 2000] "
     "[--n-pcs 50] [--neighbors 15] [--min-dist 0.5] [--resolution 1.0] [--seed 0] "
     "[--threads N] [--timings FILE.json]"},
    {"simulate", cli::simulate,
     "simulate --cells N --genes G --types T --batches B --batch-effect E "
     "[--donors-per-batch D] [--seed S] [--threads N] -o OUT.h5ad"},
    {"diagnose", cli::diagnose,
     "diagnose IN --batch-key K [--label-key L] [--embedding X_pca] [--harmony] "
     "[--json OUT.json|-] [--write OUT.h5ad] [--no-harmony-umap] [--theta 2] [--seed 0] "
     "[--threads N] [--quiet]"},
    {"export", cli::export_subset,
     "export IN --recipe R.json -o OUTDIR [--format h5ad|loom|mtx|csv] "
     "[--split train=0.8,validation=0.1,test=0.1] [--group-by KEY] [--stratify-by KEY] "
     "[--seed S] [--batch-key K] [--overwrite] [--add-qc] [--compression 0-9] [--threads N] "
     "[--quiet]"},
};

void print_usage(std::FILE* out) {
    std::fprintf(out, "usage: transcura-cli COMMAND [ARGS]\n\ncommands:\n");
    for (const auto& command : kCommands) std::fprintf(out, "  %s\n", command.usage);
    std::fprintf(out, "\nversion %s\n", TRANSCURA_VERSION);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (std::strcmp(argv[1], "--version") == 0) {
        std::printf("transcura-cli %s\n", TRANSCURA_VERSION);
        return 0;
    }
    const std::string name = argv[1];
    cli::Args args(argv + 2, argv + argc);
    for (const auto& command : kCommands) {
        if (name != command.name) continue;
        try {
            return command.run(args);
        } catch (const cli::UsageError& error) {
            std::fprintf(stderr, "transcura-cli %s: %s\nusage: transcura-cli %s\n", command.name,
                         error.what(), command.usage);
            return 2;
        } catch (const std::exception& error) {
            // One line: the message already names the file, the object and the problem.
            std::string message = error.what();
            for (char& c : message)
                if (c == '\n') c = ' ';
            std::fprintf(stderr, "transcura-cli: %s\n", message.c_str());
            return 1;
        }
    }
    std::fprintf(stderr, "transcura-cli: unknown command '%s'\n", name.c_str());
    print_usage(stderr);
    return 2;
}
