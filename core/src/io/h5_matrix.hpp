#pragma once
// Matrices stored in HDF5 the ways our formats store them: AnnData csr/csc groups (current and
// legacy h5sparse attributes), dense 2-D datasets, and compressed (data, indices, indptr) triplets
// as 10x writes them. Every read validates indptr/indices/shape before building the matrix.
#include <string>

#include "hdf5/h5.hpp"
#include "transcura/cohort.hpp"

namespace transcura {

/// `name` inside `parent`: a dense dataset or a csr/csc sparse group.
Matrix read_matrix_element(const h5::Group& parent, const std::string& name);

/// Compressed triplet in `group` (data, indices, indptr) with `n_major` compressed slices
/// (rows for CSR) of length `n_minor`; returns it as CSR with n_major rows.
CsrMatrix read_compressed(const h5::Group& group, int64_t n_major, int64_t n_minor,
                          const std::string& data_name = "data",
                          const std::string& indices_name = "indices",
                          const std::string& indptr_name = "indptr");

/// Writes a CSR matrix as an AnnData 0.8 csr_matrix group.
void write_csr_group(h5::Group& parent, const std::string& name, const CsrMatrix& matrix,
                     int gzip_level);
/// Writes a matrix (sparse as csr_matrix group, dense as an "array" dataset).
void write_matrix_element(h5::Group& parent, const std::string& name, const Matrix& matrix,
                          int gzip_level);

}  // namespace transcura
