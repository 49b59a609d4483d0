// SPDX-License-Identifier: MIT
//
// headertest_cxx.cpp: <memtree.h> compiles alone as C++11 (-pedantic
// -Werror), so C++ VMMs can include it. Never linked against the library.
#include <memtree.h>

int main()
{
    mt_flat_range range = mt_flat_range();
    range.last = MT_SIZE_FULL;
    return range.last == UINT64_MAX && MT_OK == 0 && MT_EINVAL == -1 ? 0 : 1;
}
