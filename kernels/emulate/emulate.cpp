// Runs the CUDA kernels of kernels/*.cu on the CPU, against plain reference loops, for machines without a GPU.
// tests/kernel_emulation.rs drives it: it writes the kernel module for one element type exactly as NVRTC
// compiles it (`torchlet::cuda::kernel_source`) as module.cu, and the CPU's values of every pointwise op and
// its gradient at sample points as reference.txt, then builds and runs this file:
//
//   g++ -std=c++20 -O2 -pthread -Wno-unknown-pragmas -I DIR kernels/emulate/emulate.cpp -o emulate && ./emulate DIR/reference.txt
//
// shim.h stands in for the CUDA built-ins (blocks run in turn; the threads of a block run as std::threads with
// a barrier for __syncthreads, so the shared-memory reduction is exercised for real). The host-side steps are
// mirrored from src/storage/cuda (dim merging of layout.rs, the chunking of reduce.rs, the index_add plan of
// cuda.rs): keep them in step. Every op code is checked against the CPU's own implementation of that op
// (reference.txt); the strided-view tests then use the generated op functions themselves as the reference,
// since what they check is the indexing. This checks the kernels' indexing and reductions, not NVRTC, the driver, cuBLAS
// or the Rust launch code.
#include "shim.h"
#include <cstdio>
#include <cstdlib>
#include <random>
#include <algorithm>
#include <numeric>
#include <cassert>
#include <string>
#include <fstream>
#include <sstream>
#include "module.cu"

typedef std::vector<size_t> Dims;
struct Layout { Dims shape, strides; size_t offset = 0; };
static size_t numel(const Dims& s) { size_t n = 1; for (auto x : s) n *= x; return n; }
static Dims contig(const Dims& s) { Dims st(s.size(), 1); for (int i = (int)s.size() - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1]; return st; }
static size_t ref_off(const Layout& l, size_t i) { size_t o = l.offset; for (int d = (int)l.shape.size() - 1; d >= 0; --d) { o += (i % l.shape[d]) * l.strides[d]; i /= l.shape[d]; } return o; }

// Mirrors layout.rs: drop size-1 dims, merge where every view allows.
static void coalesce(const Dims& shape, std::vector<const Dims*> strides, Dims& out_shape, std::vector<Dims>& out_strides) {
    out_shape.clear(); out_strides.assign(strides.size(), Dims());
    for (size_t d = 0; d < shape.size(); ++d) {
        size_t size = shape[d];
        if (size == 1) continue;
        bool merge = !out_shape.empty();
        for (size_t k = 0; k < strides.size() && merge; ++k) merge = out_strides[k].back() == (*strides[k])[d] * size;
        if (merge) { out_shape.back() *= size; for (size_t k = 0; k < strides.size(); ++k) out_strides[k].back() = (*strides[k])[d]; }
        else { out_shape.push_back(size); for (size_t k = 0; k < strides.size(); ++k) out_strides[k].push_back((*strides[k])[d]); }
    }
}
static Strided pack(const Dims& shape, const Dims& strides, size_t offset) {
    assert(shape.size() <= MAX_RANK);
    Strided s; for (int d = 0; d < MAX_RANK; ++d) { s.shape[d] = 1; s.strides[d] = 0; }
    s.offset = offset; s.rank = (int)shape.size();
    s.contiguous = shape.empty() || (shape.size() == 1 && strides[0] == 1);
    for (size_t d = 0; d < shape.size(); ++d) { s.shape[d] = shape[d]; s.strides[d] = strides[d]; }
    return s;
}
static Strided of(const Layout& l) { Dims s; std::vector<Dims> st; coalesce(l.shape, {&l.strides}, s, st); return pack(s, st[0], l.offset); }
static Strided from_dims(const Dims& sh, const Dims& st, size_t off) { Layout l{sh, st, off}; return of(l); }
static void joint(const Layout& a, const Layout& b, Strided& sa, Strided& sb) {
    Dims s; std::vector<Dims> st; coalesce(a.shape, {&a.strides, &b.strides}, s, st);
    sa = pack(s, st[0], a.offset); sb = pack(s, st[1], b.offset);
}

std::mt19937_64 rng(42);
// Both signs, away from 0 so that divisions stay finite.
static T rnd() { double m = std::uniform_real_distribution<double>(0.5, 2.0)(rng); return rng() % 2 ? m : -m; }
static int failures = 0; static long checks = 0;
static void check(const char* what, double got, double want, double tol) { ++checks;
    bool same = (std::isnan(got) && std::isnan(want)) || got == want || std::fabs(got - want) <= tol * std::max(1.0, std::fabs(want));
    if (!same) { if (failures++ < 20) printf("FAIL %s: got %.17g want %.17g\n", what, got, want); }
}
static const double TOL = sizeof(T) == 4 ? 1e-5 : 1e-12;
static unsigned grid_for(size_t n, unsigned block) { size_t b = (n + block - 1) / block; return (unsigned)std::min<size_t>(std::max<size_t>(b, 1), 1 << 16); }

// A random view: a contiguous base of random shape, then random transposes, narrows and broadcasts.
static Layout random_view(int rank, size_t& buf_len) {
    Dims shape(rank); for (auto& s : shape) s = 1 + rng() % 5;
    Dims base = shape; for (auto& s : base) s += rng() % 2;  // room to narrow
    Layout l{shape, contig(base), 0};
    buf_len = numel(base);
    for (int d = 0; d < rank; ++d) l.offset += (rng() % (base[d] - shape[d] + 1)) * l.strides[d];
    for (int k = 0; k < rank; ++k) { int a = rng() % rank, b = rng() % rank; std::swap(l.shape[a], l.shape[b]); std::swap(l.strides[a], l.strides[b]); }
    for (int d = 0; d < rank; ++d) if (rng() % 5 == 0) { l.strides[d] = 0; l.shape[d] = 1 + rng() % 4; if (l.shape[d] == 1) l.shape[d] = 3; }
    return l;
}

static std::vector<T> reduce_identity(N_REDUCE_OPS);  // from reference.txt

// The generated op functions, already checked against the CPU (test_reference), as the reference of the
// strided-view tests.
static T ref_unary(int op, T x, T c) { return apply_unary(op, x, c); }
static T ref_binary(int op, T a, T b) { return apply_binary(op, a, b); }

// Every line of reference.txt: the CPU's value of one op at one point, checked against the kernels.
//   u code c x y s g grad    unary: y = op(x, c); grad = g · op'(s), s the saved input or output
//   b code a b y g ga gb     binary: y = a op b; ga, gb the gradients for each operand
//   r code identity          a reduction's identity
static void test_reference(const char* path) {
    std::ifstream in(path);
    if (!in) { printf("FAIL cannot read %s\n", path); ++failures; return; }
    std::vector<bool> seen_unary(N_UNARY_OPS), seen_binary(N_BINARY_OPS), seen_reduce(N_REDUCE_OPS);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line); std::string kind; int code; f >> kind >> code;
        double v[6]; for (auto& x : v) { std::string tok; f >> tok; x = std::strtod(tok.c_str(), nullptr); }  // strtod reads NaN and inf
        Strided one = from_dims({1}, {1}, 0); u64 n = 1; T out = 0; char what[64];
        if (kind == "r") {
            if (code < 0 || code >= N_REDUCE_OPS) { printf("FAIL reduce code %d out of range\n", code); ++failures; continue; }
            seen_reduce[code] = true; reduce_identity[code] = (T)v[0];
        } else if (kind == "u") {
            if (code < 0 || code >= N_UNARY_OPS) { printf("FAIL unary code %d out of range\n", code); ++failures; continue; }
            seen_unary[code] = true;
            T c = (T)v[0], x = (T)v[1], s = (T)v[3], g = (T)v[4];
            launch(1, 1, false, [&] { FN(unary)(&x, one, &out, n, code, c); });
            snprintf(what, sizeof what, "unary op %d at x = %g, c = %g", code, v[1], v[0]); check(what, out, (T)v[2], TOL);
            launch(1, 1, false, [&] { FN(unary_grad)(&s, one, &g, one, &out, n, code, c); });
            snprintf(what, sizeof what, "unary op %d gradient at x = %g", code, v[1]); check(what, out, (T)v[5], TOL);
        } else if (kind == "b") {
            if (code < 0 || code >= N_BINARY_OPS) { printf("FAIL binary code %d out of range\n", code); ++failures; continue; }
            seen_binary[code] = true;
            T a = (T)v[0], b = (T)v[1], g = (T)v[3];
            launch(1, 1, false, [&] { FN(binary)(&a, one, &b, one, &out, n, code); });
            snprintf(what, sizeof what, "binary op %d at (%g, %g)", code, v[0], v[1]); check(what, out, (T)v[2], TOL);
            for (int side = 0; side < 2; ++side) {
                launch(1, 1, false, [&] { FN(binary_grad)(&a, one, &b, one, &g, one, &out, n, code, side); });
                snprintf(what, sizeof what, "binary op %d gradient %d at (%g, %g)", code, side, v[0], v[1]); check(what, out, (T)v[4 + side], TOL);
            }
        }
    }
    for (int c = 0; c < N_UNARY_OPS; ++c) if (!seen_unary[c]) { printf("FAIL unary op %d has no reference values\n", c); ++failures; }
    for (int c = 0; c < N_BINARY_OPS; ++c) if (!seen_binary[c]) { printf("FAIL binary op %d has no reference values\n", c); ++failures; }
    for (int c = 0; c < N_REDUCE_OPS; ++c) if (!seen_reduce[c]) { printf("FAIL reduce op %d has no identity\n", c); ++failures; }
}

static void test_unary_binary_assign() {
    for (int iter = 0; iter < 300; ++iter) {
        int rank = rng() % (MAX_RANK + 1);
        size_t la_len; Layout la = random_view(rank, la_len);
        std::vector<T> a(la_len); for (auto& x : a) x = rnd();
        size_t n = numel(la.shape);
        // unary
        int op = rng() % N_UNARY_OPS; T c = rnd();
        std::vector<T> out(n);
        Strided sx = of(la); u64 n64 = n;
        launch(grid_for(n, 64), 64, false, [&] { FN(unary)(a.data(), sx, out.data(), n64, op, c); });
        for (size_t i = 0; i < n; ++i) check("unary", out[i], ref_unary(op, a[ref_off(la, i)], c), TOL);
        // binary against a second random view of the same shape (own buffer)
        Layout lb{la.shape, contig(la.shape), 0};
        std::vector<T> b(numel(la.shape) + 3); for (auto& x : b) x = rnd();
        if (rank > 0 && rng() % 2) { int d = rng() % rank; lb.strides[d] = 0; }
        lb.offset = rng() % 3;
        int bop = rng() % N_BINARY_OPS; Strided sa, sb; joint(la, lb, sa, sb);
        launch(grid_for(n, 64), 64, false, [&] { FN(binary)(a.data(), sa, b.data(), sb, out.data(), n64, bop); });
        for (size_t i = 0; i < n; ++i) check("binary", out[i], ref_binary(bop, a[ref_off(la, i)], b[ref_off(lb, i)]), TOL);
        // where: condition from a (0 where a < 0), branches a and b
        {
            std::vector<T> cond(a.size()); for (size_t i = 0; i < a.size(); ++i) cond[i] = a[i] < 0 ? (T)0 : (T)1;
            launch(grid_for(n, 64), 64, false, [&] { FN(where_cond)(cond.data(), sa, a.data(), sa, b.data(), sb, out.data(), n64); });
            for (size_t i = 0; i < n; ++i) { size_t o = ref_off(la, i); check("where_cond", out[i], cond[o] != 0 ? a[o] : b[ref_off(lb, i)], 0); }
        }
        // assign into a non-overlapping dst view (drop broadcast dims from la)
        Layout ld = la; bool overlap = false; for (size_t d = 0; d < ld.shape.size(); ++d) if (ld.strides[d] == 0 && ld.shape[d] > 1) overlap = true;
        if (!overlap) {
            std::vector<T> dst = a, want = a; int aop = (int)(rng() % (N_BINARY_OPS + 1)) - 1;
            for (size_t i = 0; i < n; ++i) { size_t o = ref_off(ld, i); T y = b[ref_off(lb, i)]; want[o] = aop < 0 ? y : ref_binary(aop, want[o], y); }
            Strided sd, ss; joint(ld, lb, sd, ss);
            launch(grid_for(n, 32), 32, false, [&] { FN(assign)(dst.data(), sd, b.data(), ss, n64, aop); });
            for (size_t i = 0; i < dst.size(); ++i) check("assign", dst[i], want[i], TOL);
            std::vector<T> m = a, mwant = a; int mop = rng() % N_UNARY_OPS;
            for (size_t i = 0; i < n; ++i) { size_t o = ref_off(ld, i); mwant[o] = ref_unary(mop, mwant[o], c); }
            Strided sm = of(ld);
            launch(grid_for(n, 32), 32, false, [&] { FN(map_inplace)(m.data(), sm, n64, mop, c); });
            for (size_t i = 0; i < m.size(); ++i) check("map_inplace", m[i], mwant[i], TOL);
        }
    }
    // Fewer threads than elements: the grid-stride loop wraps several times.
    std::vector<T> f(1000); u64 n = 1000; T v = 3.25;
    launch(3, 64, false, [&] { FN(fill)(f.data(), n, v); });
    for (auto x : f) check("fill", x, v, 0);
    std::vector<T> big(5000), neg(5000); for (auto& x : big) x = rnd(); u64 nb = 5000; Strided sb = of(Layout{{5000}, {1}, 0});
    launch(2, 32, false, [&] { FN(unary)(big.data(), sb, neg.data(), nb, 1, (T)0); });
    for (size_t i = 0; i < big.size(); ++i) check("unary, wrapped grid", neg[i], -big[i], 0);
}

// Mirrors CudaStorage::reduce in src/storage/cuda/reduce.rs.
static int reduce_op = 0;
static T identity_of(int op) { return reduce_identity[op]; }
static std::vector<T> reduce(const T* x, Strided kept, Strided red, size_t n_out, size_t n_red) {
    int op = reduce_op; T id = identity_of(op);
    const size_t THREAD_MAX_RED = 64, THREAD_MIN_OUT = 1 << 16, TARGET = 1024, MIN_CHUNK = 4096;
    u64 n_out64 = n_out, n_red64 = n_red;
    if (n_red <= THREAD_MAX_RED || n_out >= THREAD_MIN_OUT) {
        std::vector<T> out(n_out);
        launch(grid_for(n_out, 256), 256, false, [&] { FN(reduce_thread)(x, kept, red, out.data(), n_out64, n_red64, op, id); });
        return out;
    }
    size_t n_chunks = n_out >= TARGET ? 1 : std::max<size_t>(1, std::min((TARGET + n_out - 1) / n_out, (n_red + MIN_CHUNK - 1) / MIN_CHUNK));
    size_t chunk = (n_red + n_chunks - 1) / n_chunks;
    n_chunks = (n_red + chunk - 1) / chunk;
    size_t tasks = n_out * n_chunks;
    std::vector<T> partial(tasks);
    u64 nc = n_chunks, ch = chunk;
    // Fewer blocks than tasks, to exercise the task loop.
    unsigned grid = (unsigned)std::min<size_t>(tasks, 7);
    launch(grid, SUM_BLOCK, true, [&] { FN(reduce_block)(x, kept, red, partial.data(), n_out64, n_red64, nc, ch, op, id); });
    if (n_chunks == 1) return partial;
    return reduce(partial.data(), from_dims({n_out}, {n_chunks}, 0), from_dims({n_chunks}, {1}, 0), n_out, n_chunks);
}

static void test_sum_to() {
    struct C { Dims shape; Dims out; bool transpose; };
    std::vector<C> cases = {
        {{3, 4, 5}, {1, 1, 1}, false}, {{3, 4, 5}, {3, 1, 5}, false}, {{3, 4, 5}, {1, 4, 1}, true},
        {{200, 70}, {1, 70}, false}, {{70, 200}, {70, 1}, false}, {{70, 200}, {70, 1}, true},
        {{300000}, {1}, false}, {{9000, 3}, {1, 3}, false}, {{5, 20000}, {5, 1}, true}, {{2, 3}, {2, 3}, false},
        {{1, 7}, {1, 1}, false}, {{4, 1, 6}, {1, 1, 6}, true}, {{70000, 2}, {70000, 1}, false},
    };
    for (int op = 0; op < N_REDUCE_OPS; ++op)
    for (auto c : cases) {
        reduce_op = op;
        Layout l{c.shape, contig(c.shape), 0};
        if (c.transpose && l.shape.size() >= 2) { size_t r = l.shape.size(); std::swap(l.shape[0], l.shape[r - 1]); std::swap(l.strides[0], l.strides[r - 1]); std::swap(c.out[0], c.out[r - 1]); }
        std::vector<T> x(numel(c.shape)); for (auto& v : x) v = rnd();
        size_t n_in = numel(l.shape), n_out = numel(c.out);
        Dims ks, kst, rs, rst;
        for (size_t d = 0; d < l.shape.size(); ++d) { if (c.out[d] == 1) { rs.push_back(l.shape[d]); rst.push_back(l.strides[d]); } else { ks.push_back(l.shape[d]); kst.push_back(l.strides[d]); } }
        auto got = reduce(x.data(), from_dims(ks, kst, l.offset), from_dims(rs, rst, 0), n_out, n_in / n_out);
        // Reference in long double: out index = row-major over out dims of the input index.
        // Sums accumulate in long double; other reductions (exact: max, min) use the generated combine.
        std::vector<long double> want(n_out, (long double)identity_of(op));
        Layout target{l.shape, contig(c.out), 0}; for (size_t d = 0; d < l.shape.size(); ++d) if (c.out[d] == 1) target.strides[d] = 0;
        for (size_t i = 0; i < n_in; ++i) {
            long double& w = want[ref_off(target, i)]; T v = x[ref_off(l, i)];
            w = op == 0 ? w + v : (long double)reduce_combine(op, (T)w, v);
        }
        double tol = sizeof(T) == 4 ? 1e-5 : 1e-13;
        char what[32]; snprintf(what, sizeof what, "reduce op %d", op);
        for (size_t o = 0; o < n_out; ++o) check(what, got[o], (double)want[o], tol);
    }
}

static void test_index() {
    for (int iter = 0; iter < 100; ++iter) {
        int rank = 1 + rng() % 4; size_t len; Layout l = random_view(rank, len);
        if (l.strides[0] == 0) l.strides[0] = 1, l.shape[0] = std::min<size_t>(l.shape[0], 1);
        std::vector<T> x(len + l.shape[0] * 64); for (auto& v : x) v = rnd();
        size_t rows = l.shape[0]; size_t row_len = 1; for (size_t d = 1; d < l.shape.size(); ++d) row_len *= l.shape[d];
        std::vector<u64> idx(rng() % 7); for (auto& i : idx) i = rng() % rows;
        size_t n = idx.size() * row_len; std::vector<T> out(n + 1);
        Dims rs(l.shape.begin() + 1, l.shape.end()), rst(l.strides.begin() + 1, l.strides.end());
        Strided rest = from_dims(rs, rst, l.offset); u64 s0 = l.strides[0], n64 = n, rl = row_len;
        if (n) launch(grid_for(n, 32), 32, false, [&] { FN(index_select0)(x.data(), rest, s0, idx.data(), out.data(), n64, rl); });
        for (size_t e = 0; e < n; ++e) { size_t r = e / row_len, j = e % row_len; Layout row = l; row.offset += idx[r] * l.strides[0]; row.shape[0] = 1; check("index_select0", out[e], x[ref_off(row, j)], 0); }
        // index_add0: src is the strided view l' of shape [len(idx), rest...] (transposed in), dst contiguous rows.
        if (!n) continue;
        Layout src{Dims(), Dims(), 0}; src.shape = l.shape; src.shape[0] = idx.size(); src.strides = contig(src.shape);
        if (src.shape.size() >= 2) { // store the source transposed in memory, read through a transposed view
            Dims tshape = src.shape; std::swap(tshape[0], tshape[1]); Dims tst = contig(tshape); src.strides = tst; std::swap(src.strides[0], src.strides[1]);
        }
        std::vector<T> sv(numel(src.shape)); for (auto& v : sv) v = rnd();
        size_t dst_rows = rows; std::vector<T> dst(dst_rows * row_len); for (auto& v : dst) v = rnd();
        std::vector<T> want = dst;
        for (size_t i = 0; i < idx.size(); ++i) for (size_t j = 0; j < row_len; ++j) want[idx[i] * row_len + j] = want[idx[i] * row_len + j] + sv[ref_off(src, i * row_len + j)];
        // plan, as in CudaStorage::index_add0
        std::vector<size_t> order(idx.size()); std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return idx[a] < idx[b]; });
        std::vector<u64> targets, starts;
        for (size_t p = 0; p < order.size(); ++p) if (targets.empty() || targets.back() != idx[order[p]]) { targets.push_back(idx[order[p]]); starts.push_back(p); }
        starts.push_back(order.size());
        size_t nt = targets.size(); std::vector<u64> plan = targets; plan.insert(plan.end(), starts.begin(), starts.end()); for (auto i : order) plan.push_back(i);
        Strided ls = of(src); u64 nt64 = nt;
        launch(grid_for(nt * row_len, 32), 32, false, [&] { FN(index_add0)(dst.data(), sv.data(), ls, plan.data(), nt64, rl); });
        for (size_t i = 0; i < dst.size(); ++i) check("index_add0 (bitwise)", dst[i], want[i], 0);
    }
}

// im2col and col2im against their definitions, over random geometries (strides, dilations, paddings past the
// kernel) and a strided input view (batch and channel dims swapped in memory, at an offset). col2im's
// reference adds the taps in the CPU's order (tap by tap), so it must agree bit for bit.
static void test_window() {
    for (int iter = 0; iter < 60; ++iter) {
        Window g;
        g.batch = 1 + rng() % 3; g.channels = 1 + rng() % 3; g.height = 1 + rng() % 6; g.width = 1 + rng() % 7;
        g.kernel_h = 1 + rng() % 3; g.kernel_w = 1 + rng() % 4; g.stride_h = 1 + rng() % 3; g.stride_w = 1 + rng() % 3;
        g.dilation_h = 1 + rng() % 2; g.dilation_w = 1 + rng() % 3; g.pad_h = rng() % 3; g.pad_w = rng() % 3;
        u64 span_h = g.dilation_h * (g.kernel_h - 1) + 1, span_w = g.dilation_w * (g.kernel_w - 1) + 1;
        if (g.height + 2 * g.pad_h < span_h || g.width + 2 * g.pad_w < span_w) continue;
        g.out_h = (g.height + 2 * g.pad_h - span_h) / g.stride_h + 1; g.out_w = (g.width + 2 * g.pad_w - span_w) / g.stride_w + 1;
        // Memory [C, N, H, W], read as [N, C, H, W], 5 elements in.
        u64 N = g.batch, C = g.channels, H = g.height, W = g.width;
        g.strides[0] = H * W; g.strides[1] = N * H * W; g.strides[2] = W; g.strides[3] = 1; g.offset = 5;
        std::vector<T> x(5 + N * C * H * W); for (auto& v : x) v = rnd();
        u64 taps = g.kernel_h * g.kernel_w, width = taps * C, n = N * g.out_h * g.out_w * width;
        // in[ih] for tap i of window y, or -1 in the padding.
        auto at = [](u64 o, u64 k, u64 s, u64 d, u64 p, u64 size) -> long long {
            long long q = (long long)(o * s + k * d) - (long long)p; return q >= 0 && q < (long long)size ? q : -1; };
        T pad = iter % 2 ? (T)0 : -INFINITY;
        std::vector<T> out(n);
        launch(grid_for(n, 32), 32, false, [&] { FN(im2col)(x.data(), g, pad, out.data(), n); });
        std::vector<T> y(n); for (auto& v : y) v = rnd();
        std::vector<T> want_fold(N * C * H * W, (T)0);
        for (u64 t = 0; t < taps; ++t) for (u64 b = 0; b < N; ++b)
        for (u64 oy = 0; oy < g.out_h; ++oy) for (u64 ox = 0; ox < g.out_w; ++ox) for (u64 c = 0; c < C; ++c) {
            u64 e = ((b * g.out_h + oy) * g.out_w + ox) * width + t * C + c;
            long long ih = at(oy, t / g.kernel_w, g.stride_h, g.dilation_h, g.pad_h, H);
            long long iw = at(ox, t % g.kernel_w, g.stride_w, g.dilation_w, g.pad_w, W);
            bool inside = ih >= 0 && iw >= 0;
            T want = inside ? x[5 + b * g.strides[0] + c * g.strides[1] + ih * W + iw] : pad;
            check("im2col", out[e], want, 0);
            if (inside) { T& d = want_fold[((b * C + c) * H + ih) * W + iw]; d = d + y[e]; }
        }
        Window gf = g; for (auto& s : gf.strides) s = 0; gf.offset = 0;
        std::vector<T> folded(N * C * H * W); u64 m = folded.size();
        launch(grid_for(m, 32), 32, false, [&] { FN(col2im)(y.data(), gf, folded.data(), m); });
        for (u64 i = 0; i < m; ++i) check("col2im (bitwise)", folded[i], want_fold[i], 0);
    }
}

int main(int argc, char** argv) {
    if (argc != 2) { printf("usage: %s reference.txt\n", argv[0]); return 2; }
    test_reference(argv[1]);
    test_unary_binary_assign();
    test_sum_to();
    test_index();
    test_window();
    printf("%s: %d failures of %ld checks\n", sizeof(T) == 4 ? "f32" : "f64", failures, checks);
    return failures != 0;
}
