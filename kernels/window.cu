// im2col and col2im over [N, C, H, W] (the column layout is described in src/storage/window.rs).

// The windows and the input view. Must match `WindowArgs` in src/storage/cuda/window.rs exactly: 19 u64.
struct Window {
    u64 batch, channels, height, width;
    u64 kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w, out_h, out_w;
    u64 strides[4];  // of the input view [N, C, H, W]
    u64 offset;
};

// The column matrix [N·OH·OW, kh·kw·C], one thread per entry: tap (i, j) of channel c for window (b, y, x)
// at row (b, y, x), column (i·kw + j)·C + c; `pad` where the tap falls in the padding.
extern "C" __global__ void FN(im2col)(const T* in, Window g, T pad, T* out, u64 n) {
    const u64 positions = g.out_h * g.out_w;
    const u64 width = g.kernel_h * g.kernel_w * g.channels;
    GRID_STRIDE_LOOP(e, n) {
        const u64 row = e / width, col = e - row * width;
        const u64 tap = col / g.channels, c = col - tap * g.channels;
        const u64 i = tap / g.kernel_w, j = tap - i * g.kernel_w;
        const u64 b = row / positions, pos = row - b * positions;
        const u64 y = pos / g.out_w, x = pos - y * g.out_w;
        // Unsigned: a tap left of the input wraps around to a huge value, which the `<` tests reject.
        const u64 ih = y * g.stride_h + i * g.dilation_h - g.pad_h;
        const u64 iw = x * g.stride_w + j * g.dilation_w - g.pad_w;
        const bool inside = y * g.stride_h + i * g.dilation_h >= g.pad_h && ih < g.height &&
                            x * g.stride_w + j * g.dilation_w >= g.pad_w && iw < g.width;
        out[e] = inside ? in[g.offset + b * g.strides[0] + c * g.strides[1] + ih * g.strides[2] + iw * g.strides[3]]
                        : pad;
    }
}

// The input-shaped sum of the contiguous column matrix, one thread per input entry (b, c, ih, iw): the taps
// that read it, added in the CPU's order (tap by tap), so the result is the CPU's bit for bit.
extern "C" __global__ void FN(col2im)(const T* cols_in, Window g, T* out, u64 n) {
    const u64 width = g.kernel_h * g.kernel_w * g.channels;
    GRID_STRIDE_LOOP(e, n) {
        const u64 iw = e % g.width, rest = e / g.width;
        const u64 ih = rest % g.height, plane = rest / g.height;
        const u64 c = plane % g.channels, b = plane / g.channels;
        T acc = (T)0;
        for (u64 i = 0; i < g.kernel_h; ++i) {
            // Window row y reads input row ih through tap i when y·s = ih + pad − i·d.
            const u64 at_h = ih + g.pad_h;
            if (at_h < i * g.dilation_h || (at_h - i * g.dilation_h) % g.stride_h != 0) continue;
            const u64 y = (at_h - i * g.dilation_h) / g.stride_h;
            if (y >= g.out_h) continue;
            for (u64 j = 0; j < g.kernel_w; ++j) {
                const u64 at_w = iw + g.pad_w;
                if (at_w < j * g.dilation_w || (at_w - j * g.dilation_w) % g.stride_w != 0) continue;
                const u64 x = (at_w - j * g.dilation_w) / g.stride_w;
                if (x >= g.out_w) continue;
                acc += cols_in[((b * g.out_h + y) * g.out_w + x) * width + (i * g.kernel_w + j) * g.channels + c];
            }
        }
        out[e] = acc;
    }
}
