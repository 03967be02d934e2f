# cmake -DCLI=<transcura-cli> -DOUTPUT=<demo_cohort.h5ad> -DFALLBACK=<a real .h5ad>
#       -P make_demo_cohort.cmake
# Simulates the demo cohort; falls back to a copy of FALLBACK when `simulate` is unavailable.
get_filename_component(output_dir "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${output_dir}")
file(REMOVE "${OUTPUT}")
execute_process(
  COMMAND "${CLI}" simulate --cells 3000 --genes 2000 --types 6 --batches 3
          --batch-effect 0.5 --seed 1 -o "${OUTPUT}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(result EQUAL 0 AND EXISTS "${OUTPUT}")
  return()
endif()
string(STRIP "${err}" err)
if(EXISTS "${FALLBACK}")
  message(WARNING "transcura-cli simulate failed (${result}: ${err}); "
                  "using ${FALLBACK} as the demo cohort for now")
  file(COPY_FILE "${FALLBACK}" "${OUTPUT}")
  file(CHMOD "${OUTPUT}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
else()
  message(WARNING "transcura-cli simulate failed (${result}: ${err}) and ${FALLBACK} is missing; "
                  "the app will start without a demo cohort")
endif()
