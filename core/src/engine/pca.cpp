// Randomized PCA of the implicitly centred sparse matrix (see pca.hpp).
#include "transcura/pca.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

#include "engine/parallel.hpp"
#include "engine/random.hpp"
#include "transcura/errors.hpp"
#include "transcura/normalize.hpp"

namespace transcura {
namespace {

/// out[c] += sum_k val[k] * B[idx[k] * L + c] with the L accumulators kept in registers
/// (dense rows: idx == nullptr, column k). (Single precision was tried: ~20% faster here, at the
/// cost of 1e-7 instead of 1e-9 relative accuracy; not worth it.)
template <int L>
inline void accumulate_fixed(const int32_t* idx, const float* val, int64_t count, const double* B,
                             double* out) {
    // Two accumulator sets (even and odd entries) halve the FMA dependency chain.
    double even[L], odd[L];
    for (int c = 0; c < L; ++c) even[c] = out[c], odd[c] = 0.0;
    int64_t k = 0;
    for (; k + 1 < count; k += 2) {
        const double v0 = val[k], v1 = val[k + 1];
        const double* b0 = B + (idx ? static_cast<int64_t>(idx[k]) : k) * L;
        const double* b1 = B + (idx ? static_cast<int64_t>(idx[k + 1]) : k + 1) * L;
        for (int c = 0; c < L; ++c) {
            even[c] += v0 * b0[c];
            odd[c] += v1 * b1[c];
        }
    }
    if (k < count) {
        const double v = val[k];
        const double* b = B + (idx ? static_cast<int64_t>(idx[k]) : k) * L;
        for (int c = 0; c < L; ++c) even[c] += v * b[c];
    }
    for (int c = 0; c < L; ++c) out[c] = even[c] + odd[c];
}

inline void accumulate_any(const int32_t* idx, const float* val, int64_t count, const double* B,
                           int64_t l, double* out) {
    for (int64_t k = 0; k < count; ++k) {
        const double v = val[k];
        if (v == 0.0) continue;
        const double* b = B + (idx ? static_cast<int64_t>(idx[k]) : k) * l;
        for (int64_t c = 0; c < l; ++c) out[c] += v * b[c];
    }
}

/// out[c] += sum_k val[k] * B[idx[k] * l + c]: the hot loop of the whole PCA. Cloned for wider
/// vector units (chosen at load time); common block widths get register-resident accumulators.
__attribute__((target_clones("avx512f", "avx2", "default"))) void accumulate_row(
    const int32_t* idx, const float* val, int64_t count, const double* B, int64_t l, double* out) {
    switch (l) {
        case 4:
            return accumulate_fixed<4>(idx, val, count, B, out);
        case 8:
            return accumulate_fixed<8>(idx, val, count, B, out);
        case 10:
            return accumulate_fixed<10>(idx, val, count, B, out);
        case 12:
            return accumulate_fixed<12>(idx, val, count, B, out);
        case 16:
            return accumulate_fixed<16>(idx, val, count, B, out);
        default:
            return accumulate_any(idx, val, count, B, l, out);
    }
}

/// Rows of A (or of its transpose), either CSR or dense.
struct Rows {
    const CsrMatrix* csr = nullptr;
    const DenseF* dense = nullptr;
    int64_t n_rows() const { return csr ? csr->n_rows : dense->n_rows; }
    int64_t n_cols() const { return csr ? csr->n_cols : dense->n_cols; }
};

/// out (rows x l) with out_i = row_scale_i * (A_i B + coef_i * v), B is n_cols x l row-major.
/// One row per task, summed in storage order: independent of the thread count.
void multiply(const Rows& A, const std::vector<double>& B, int64_t l, const double* coef,
              const std::vector<double>& v, const std::vector<double>* row_scale,
              std::vector<double>& out, const RunControl& control) {
    const int64_t rows = A.n_rows();
    out.assign(static_cast<size_t>(rows * l), 0.0);
    engine::for_chunks(
        engine::make_chunks(rows, 64, 1 << 16), control, [&](int64_t, int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) {
                double* o = out.data() + i * l;
                const int32_t* idx = A.csr ? A.csr->indices.data() + A.csr->indptr[i] : nullptr;
                const float* val = A.csr ? A.csr->data.data() + A.csr->indptr[i] : A.dense->row(i);
                const int64_t count =
                    A.csr ? A.csr->indptr[i + 1] - A.csr->indptr[i] : A.dense->n_cols;
                accumulate_row(idx, val, count, B.data(), l, o);
                if (coef) {
                    const double ci = coef[i];
                    for (int64_t c = 0; c < l; ++c) o[c] += ci * v[c];
                }
                if (row_scale) {
                    const double s = (*row_scale)[i];
                    for (int64_t c = 0; c < l; ++c) o[c] *= s;
                }
            }
        });
}

/// Column sums of a row-major rows x l block, reduced over fixed chunks in order.
std::vector<double> column_sums(const std::vector<double>& Y, int64_t rows, int64_t l,
                                const RunControl& control) {
    const engine::Chunking chunks = engine::make_chunks(rows, 1024, 64);
    std::vector<std::vector<double>> partial(chunks.count(), std::vector<double>(l, 0.0));
    engine::for_chunks(chunks, control, [&](int64_t c, int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
            for (int64_t j = 0; j < l; ++j) partial[c][j] += Y[i * l + j];
    });
    std::vector<double> sums(l, 0.0);
    for (const auto& p : partial)
        for (int64_t j = 0; j < l; ++j) sums[j] += p[j];
    return sums;
}

/// Orthonormal columns (modified Gram-Schmidt, twice for stability) of a row-major p x l block.
void orthonormalize(std::vector<double>& Z, int64_t p, int64_t l) {
    std::vector<double> cols(static_cast<size_t>(p * l));
    for (int64_t i = 0; i < p; ++i)
        for (int64_t j = 0; j < l; ++j) cols[j * p + i] = Z[i * l + j];
    std::vector<double> original(static_cast<size_t>(l), 0.0);
    for (int64_t j = 0; j < l; ++j)
        for (int64_t i = 0; i < p; ++i) original[j] += cols[j * p + i] * cols[j * p + i];
    for (int pass = 0; pass < 2; ++pass) {
        for (int64_t j = 0; j < l; ++j) {
            double* cj = cols.data() + j * p;
            for (int64_t q = 0; q < j; ++q) {
                const double* cq = cols.data() + q * p;
                double dot = 0.0;
                for (int64_t i = 0; i < p; ++i) dot += cq[i] * cj[i];
                for (int64_t i = 0; i < p; ++i) cj[i] -= dot * cq[i];
            }
            double norm = 0.0;
            for (int64_t i = 0; i < p; ++i) norm += cj[i] * cj[i];
            // A column (numerically) inside the span of the previous ones carries only rounding
            // noise, which normalising would blow up into a spurious direction: zero it.
            const double inv = norm > 1e-24 * original[j] && norm > 0 ? 1.0 / std::sqrt(norm) : 0.0;
            for (int64_t i = 0; i < p; ++i) cj[i] *= inv;
            original[j] = inv > 0 ? 1.0 : 0.0;
        }
    }
    for (int64_t i = 0; i < p; ++i)
        for (int64_t j = 0; j < l; ++j) Z[i * l + j] = cols[j * p + i];
}

/// Makes the b columns of Z (p x b, row-major) orthonormal and orthogonal to the first `used`
/// columns of the basis K (p x m, row-major, orthonormal): block Gram-Schmidt, twice. Columns
/// that vanish (already in the span) become zero.
void orthogonalize_against(std::vector<double>& Z, const std::vector<double>& K, int64_t p,
                           int64_t b, int64_t m, int64_t used, const RunControl& control) {
    auto column_norms = [&] {
        std::vector<double> norms(static_cast<size_t>(b), 0.0);
        for (int64_t j = 0; j < p; ++j)
            for (int64_t c = 0; c < b; ++c) norms[c] += Z[j * b + c] * Z[j * b + c];
        return norms;
    };
    const std::vector<double> norms_before = column_norms();
    const engine::Chunking chunks = engine::make_chunks(p, 512, 32);
    for (int pass = 0; pass < 2; ++pass) {
        // C = K_used' Z (used x b), reduced over fixed gene chunks; then Z -= K_used C.
        std::vector<std::vector<double>> partial(chunks.count());
        engine::for_chunks(chunks, control, [&](int64_t ci, int64_t jb, int64_t je) {
            std::vector<double> C(static_cast<size_t>(used * b), 0.0);
            for (int64_t j = jb; j < je; ++j) {
                const double* kj = K.data() + j * m;
                const double* zj = Z.data() + j * b;
                for (int64_t a = 0; a < used; ++a) {
                    const double ka = kj[a];
                    double* ca = C.data() + a * b;
                    for (int64_t c = 0; c < b; ++c) ca[c] += ka * zj[c];
                }
            }
            partial[ci] = std::move(C);
        });
        std::vector<double> C(static_cast<size_t>(used * b), 0.0);
        for (const auto& part : partial)
            for (size_t q = 0; q < C.size(); ++q) C[q] += part[q];
        engine::for_chunks(chunks, control, [&](int64_t, int64_t jb, int64_t je) {
            for (int64_t j = jb; j < je; ++j) {
                const double* kj = K.data() + j * m;
                double* zj = Z.data() + j * b;
                for (int64_t a = 0; a < used; ++a) {
                    const double ka = kj[a];
                    const double* ca = C.data() + a * b;
                    for (int64_t c = 0; c < b; ++c) zj[c] -= ka * ca[c];
                }
            }
        });
    }
    // Columns that were (numerically) inside span(K) carry only rounding noise: drop them.
    const std::vector<double> norms_after = column_norms();
    for (int64_t c = 0; c < b; ++c)
        if (!(norms_after[c] > 1e-20 * norms_before[c]))
            for (int64_t j = 0; j < p; ++j) Z[j * b + c] = 0.0;
    orthonormalize(Z, p, b);
}

DenseF transpose_dense(const DenseF& m) {
    DenseF t(m.n_cols, m.n_rows);
    for (int64_t i = 0; i < m.n_rows; ++i)
        for (int64_t j = 0; j < m.n_cols; ++j) t(j, i) = m(i, j);
    return t;
}

}  // namespace

PcaResults run_pca(const Matrix& X, const PcaOptions& o) {
    const int64_t n = X.n_rows(), p = X.n_cols();
    if (n < 2 || p < 1) throw InvalidArgument("PCA needs at least 2 cells and 1 gene");
    if (o.n_components < 1) throw InvalidArgument("PCA needs n_components >= 1");
    if (o.block_size < 1 || o.iterations < 0)
        throw InvalidArgument("PCA needs block_size >= 1 and iterations >= 0");
    const RunControl& control = o.control;
    const int64_t k = std::min<int64_t>(o.n_components, std::min(n, p));
    const int64_t b = std::min<int64_t>(o.block_size, std::min(n, p));
    // Enough rounds for a basis of k + 10 columns (or all of min(n, p)).
    const int64_t wanted = std::min<int64_t>(k + 10, std::min(n, p));
    const int64_t steps = std::min<int64_t>(
        std::max<int64_t>(o.iterations + 1, (wanted + b - 1) / b), (std::min(n, p) + b - 1) / b);

    PcaResults r;
    std::vector<double> variances;
    gene_mean_var(X, r.means, variances, control);
    r.scales.assign(static_cast<size_t>(p), 1.0);
    for (int64_t j = 0; j < p; ++j) {
        if (o.scale) {
            const double sd = std::sqrt(std::max(variances[j], 0.0));
            r.scales[j] = sd > 0 ? sd : 1.0;
        }
        r.total_variance += variances[j] / (r.scales[j] * r.scales[j]);
    }
    if (!o.zero_center) std::fill(r.means.begin(), r.means.end(), 0.0);
    std::vector<double> inv_scale(static_cast<size_t>(p));
    for (int64_t j = 0; j < p; ++j) inv_scale[j] = 1.0 / r.scales[j];
    std::vector<double> minus_mean(static_cast<size_t>(p));
    for (int64_t j = 0; j < p; ++j) minus_mean[j] = -r.means[j];
    const std::vector<double> minus_ones(static_cast<size_t>(n), -1.0);

    Rows A, At;
    CsrMatrix csr_t;
    DenseF dense_t;
    if (X.is_sparse()) {
        A.csr = &X.sparse();
        csr_t = X.sparse().transposed();
        At.csr = &csr_t;
    } else {
        A.dense = &X.dense();
        dense_t = transpose_dense(X.dense());
        At.dense = &dense_t;
    }
    control.check();

    // Block Krylov basis K = [Z_0, Z_1, ...] on the gene side: Z_0 orthonormal random, and
    // Z_{t+1} = the part of R_t = A_c' A_c Z_t orthogonal to the basis so far. We keep R_t,
    // because K' A_c' A_c K = K' [R_0 ... R_q] is then a small p-side product.
    std::vector<double> K(static_cast<size_t>(p * b * steps), 0.0);  // p x (b * steps), row-major
    std::vector<double> R(static_cast<size_t>(p * b * steps), 0.0);
    const int64_t m = b * steps;
    std::vector<double> Zt(static_cast<size_t>(p * b)), Y, Rt;
    engine::Rng rng(o.seed, 0x5CA);
    for (auto& z : Zt) z = rng.normal();
    orthonormalize(Zt, p, b);

    // Y = A_c Z = A (D Z) - 1 (mu' D Z); returns A_c' Y = D (A' Y - mu (1' Y)) in `out`.
    auto normal_product = [&](const std::vector<double>& Zin, int64_t cols,
                              std::vector<double>& out) {
        std::vector<double> DZ = Zin;
        for (int64_t j = 0; j < p; ++j)
            for (int64_t c = 0; c < cols; ++c) DZ[j * cols + c] *= inv_scale[j];
        std::vector<double> offset(static_cast<size_t>(cols), 0.0);
        for (int64_t j = 0; j < p; ++j)
            for (int64_t c = 0; c < cols; ++c) offset[c] += r.means[j] * DZ[j * cols + c];
        multiply(A, DZ, cols, minus_ones.data(), offset, nullptr, Y, control);
        const std::vector<double> sums = column_sums(Y, n, cols, control);
        multiply(At, Y, cols, minus_mean.data(), sums, &inv_scale, out, control);
    };
    for (int64_t t = 0; t < steps; ++t) {
        for (int64_t j = 0; j < p; ++j) std::copy_n(Zt.data() + j * b, b, K.data() + j * m + t * b);
        normal_product(Zt, b, Rt);
        for (int64_t j = 0; j < p; ++j) std::copy_n(Rt.data() + j * b, b, R.data() + j * m + t * b);
        if (t + 1 < steps) {
            Zt = Rt;
            orthogonalize_against(Zt, K, p, b, m, (t + 1) * b, control);
        }
        control.check();
        control.report(static_cast<double>(t + 1) / static_cast<double>(steps + 1), "PCA");
    }

    // Rayleigh-Ritz: eigenvectors W of H = K' A_c' A_c K (m x m) give V = K W and U S = A_c V.
    Eigen::MatrixXd H = Eigen::MatrixXd::Zero(m, m);
    {
        const engine::Chunking chunks = engine::make_chunks(p, 256, 64);
        std::vector<Eigen::MatrixXd> partial(chunks.count());
        engine::for_chunks(chunks, control, [&](int64_t c, int64_t jb, int64_t je) {
            Eigen::MatrixXd h = Eigen::MatrixXd::Zero(m, m);
            for (int64_t j = jb; j < je; ++j) {
                const double* kj = K.data() + j * m;
                const double* rj = R.data() + j * m;
                for (int64_t a2 = 0; a2 < m; ++a2) {
                    const double ka = kj[a2];
                    if (ka == 0.0) continue;
                    double* column = h.data() + a2 * m;
                    for (int64_t c2 = 0; c2 < m; ++c2) column[c2] += ka * rj[c2];
                }
            }
            partial[c] = std::move(h);
        });
        for (const auto& h : partial) H += h;
        // H(c, a) = sum_j K(j, a) R(j, c): symmetric in exact arithmetic; symmetrise.
        H = (0.5 * (H + H.transpose())).eval();
    }
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(H);
    if (eigen.info() != Eigen::Success) throw InvalidArgument("PCA: eigen-decomposition failed");
    r.singular_values.resize(static_cast<size_t>(k));
    r.loadings = DenseD(p, k);
    for (int64_t c = 0; c < k; ++c)
        r.singular_values[c] = std::sqrt(std::max(eigen.eigenvalues()(m - 1 - c), 0.0));
    engine::for_chunks(engine::make_chunks(p, 256), control, [&](int64_t, int64_t jb, int64_t je) {
        for (int64_t j = jb; j < je; ++j) {
            const double* kj = K.data() + j * m;
            for (int64_t c = 0; c < k; ++c) {
                const auto w = eigen.eigenvectors().col(m - 1 - c);
                double s = 0.0;
                for (int64_t a2 = 0; a2 < m; ++a2) s += kj[a2] * w(a2);
                r.loadings(j, c) = s;
            }
        }
    });
    for (int64_t c = 0; c < k; ++c) {
        int64_t best = 0;
        for (int64_t j = 1; j < p; ++j)
            if (std::fabs(r.loadings(j, c)) > std::fabs(r.loadings(best, c))) best = j;
        if (r.loadings(best, c) < 0)
            for (int64_t j = 0; j < p; ++j) r.loadings(j, c) = -r.loadings(j, c);
    }
    {
        std::vector<double> V(r.loadings.values), DV(V);
        for (int64_t j = 0; j < p; ++j)
            for (int64_t c = 0; c < k; ++c) DV[j * k + c] *= inv_scale[j];
        std::vector<double> offset(static_cast<size_t>(k), 0.0);
        for (int64_t j = 0; j < p; ++j)
            for (int64_t c = 0; c < k; ++c) offset[c] += r.means[j] * DV[j * k + c];
        multiply(A, DV, k, minus_ones.data(), offset, nullptr, Y, control);
        r.scores = DenseD(n, k);
        r.scores.values = std::move(Y);
    }

    r.explained_variance.resize(static_cast<size_t>(k));
    r.explained_variance_ratio.resize(static_cast<size_t>(k));
    for (int64_t c = 0; c < k; ++c) {
        double ev = r.singular_values[c] * r.singular_values[c] / static_cast<double>(n - 1);
        if (!o.zero_center) {  // truncated SVD: variance of the score column
            double mean = 0.0, sq = 0.0;
            for (int64_t i = 0; i < n; ++i) mean += r.scores(i, c);
            mean /= static_cast<double>(n);
            for (int64_t i = 0; i < n; ++i) sq += (r.scores(i, c) - mean) * (r.scores(i, c) - mean);
            ev = sq / static_cast<double>(n - 1);
        }
        r.explained_variance[c] = ev;
        r.explained_variance_ratio[c] = r.total_variance > 0 ? ev / r.total_variance : 0.0;
    }
    control.report(1.0, "PCA");
    return r;
}

}  // namespace transcura
