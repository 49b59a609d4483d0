/* SPDX-License-Identifier: MIT */
/*
 * ram.c: host memory behind RAM, ROM and ROM device regions.
 *
 * Memory is reserved with MAP_NORESERVE and faulted in only when touched,
 * so a region of many GiB costs nothing until used. (RAM blocks with
 * alignment, guard pages and other backends build on this later.)
 */
#include <sys/mman.h>

#include "internal.h"

int mt__ram_map(mt_region *r, uint64_t size)
{
    void *p;

    if (size == 0)
        return 0;
    if (size > (uint64_t)SIZE_MAX)
        return MT_ENOMEM;
    p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return MT_ENOMEM;
    r->host = p;
    r->host_len = (size_t)size;
    return 0;
}

void mt__ram_unmap(mt_region *r)
{
    if (r->host_len)
        munmap(r->host, r->host_len);
    r->host = NULL;
    r->host_len = 0;
}
