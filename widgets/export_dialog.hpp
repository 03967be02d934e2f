#pragma once
// The Export dialog: output folder, format, splits (fractions, group-by and stratify-by keys,
// seed), batch key, overwrite; a preview of the split sizes, the leakage warnings and the
// manifest.json that will be written; progress and cancel while exporting. It plans and writes
// nothing itself: the shell runs core's plan_export / write_export and hands back values.
#include <cstdint>
#include <vector>

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>

#include "transcura/export.hpp"

namespace transcura::widgets {

/// What core's plan_export said, as plain values.
struct ExportPreview {
    bool valid = false;
    QString error;  // the options or the recipe cannot be exported
    int64_t n_obs = 0, n_vars = 0;
    QStringList split_names;
    std::vector<int64_t> split_sizes;
    std::vector<double> requested_fractions, achieved_fractions;
    QStringList output_files;
    QStringList warnings;  // split warnings and leakage findings
    QString leakage;       // one line: groups shared, duplicate profiles, batch predictability
    QString manifest;      // manifest.json as it will be written (output hashes still null)
};

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    explicit ExportDialog(QWidget* parent = nullptr);

    /// The obs columns offered as group-by, stratify-by and batch keys.
    void setColumns(const QStringList& columns, const QString& batch_key);
    void setSourceText(const QString& text);

    QString outputDir() const;
    void setOutputDir(const QString& dir);
    /// "h5ad", "loom", "mtx" or "csv".
    QString format() const;
    void setFormat(const QString& format);
    bool splitEnabled() const;
    void setSplitEnabled(bool on);
    QString splitFractions() const;
    void setSplitFractions(const QString& text);
    QString groupKey() const;  // "" = none
    void setGroupKey(const QString& key);
    QString stratifyKey() const;
    void setStratifyKey(const QString& key);
    QString batchKey() const;
    void setBatchKey(const QString& key);
    uint64_t seed() const;
    void setSeed(uint64_t seed);
    bool overwrite() const;
    void setOverwrite(bool on);

    /// The dialog's choices as core's options. Throws InvalidArgument (bad fractions, no folder).
    ExportOptions exportOptions() const;
    /// The same choices as transcura-cli export arguments (shown, and used by tests).
    QStringList cliArguments() const;

    void setPreviewPending(bool pending);
    void setPreview(const ExportPreview& preview);
    const ExportPreview& preview() const { return preview_; }
    /// While exporting: progress shown, options and Export disabled, Cancel enabled.
    void setExporting(bool exporting);
    bool isExporting() const { return exporting_; }
    void setProgress(double fraction, const QString& what);
    void setStatus(const QString& text);

    QLineEdit* outputEdit() const { return output_; }
    QComboBox* formatBox() const { return format_; }
    QCheckBox* splitBox() const { return split_; }
    QLineEdit* fractionsEdit() const { return fractions_; }
    QComboBox* groupBox() const { return group_; }
    QComboBox* stratifyBox() const { return stratify_; }
    QComboBox* batchBox() const { return batch_; }
    QSpinBox* seedBox() const { return seed_; }
    QCheckBox* overwriteBox() const { return overwrite_; }
    QPushButton* exportButton() const { return export_; }
    QPushButton* cancelButton() const { return cancel_; }
    QTableWidget* splitTable() const { return split_table_; }
    QLabel* warningsLabel() const { return warnings_; }
    QLabel* leakageLabel() const { return leakage_; }
    QPlainTextEdit* manifestView() const { return manifest_; }
    QProgressBar* progressBar() const { return progress_; }

signals:
    void optionsChanged();
    void exportRequested();
    void cancelRequested();

private:
    static void fillKeyBox(QComboBox* box, const QStringList& columns, const QString& current);
    static QString keyOf(const QComboBox* box);
    void updateEnabled();

    ExportPreview preview_;
    bool exporting_ = false;
    bool pending_ = false;
    QString committed_output_, committed_fractions_;  // the texts last announced
    QLabel* source_ = nullptr;
    QLineEdit* output_ = nullptr;
    QPushButton* browse_ = nullptr;
    QComboBox* format_ = nullptr;
    QCheckBox* overwrite_ = nullptr;
    QCheckBox* split_ = nullptr;
    QLineEdit* fractions_ = nullptr;
    QComboBox* group_ = nullptr;
    QComboBox* stratify_ = nullptr;
    QSpinBox* seed_ = nullptr;
    QComboBox* batch_ = nullptr;
    QWidget* options_ = nullptr;
    QLabel* summary_ = nullptr;
    QTableWidget* split_table_ = nullptr;
    QLabel* warnings_ = nullptr;
    QLabel* leakage_ = nullptr;
    QPlainTextEdit* manifest_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* status_ = nullptr;
    QPushButton* export_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QPushButton* close_ = nullptr;
};

}  // namespace transcura::widgets
