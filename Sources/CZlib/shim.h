#ifndef RECONCILE_CZLIB_SHIM_H
#define RECONCILE_CZLIB_SHIM_H

#include <zlib.h>

// inflateInit2 is a macro, which Swift cannot call: this wrapper can be.
// 15 + 16: the largest window, gzip framing only (a zlib or raw stream is an error).
static inline int reconcile_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 16);
}

#endif
