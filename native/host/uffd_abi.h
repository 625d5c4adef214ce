/*
 * The Linux 6.7+ ABI for asynchronous userfaultfd write protection and PAGEMAP_SCAN, which older installed kernel
 * headers lack (Debian 12 ships 6.1's). Values as in the kernel's include/uapi/linux/userfaultfd.h and fs.h.
 * Used by host/writes.c and by the measurement that chose it, bench/write-sets/mechanisms.c.
 */
#ifndef MMSPEC_UFFD_ABI_H
#define MMSPEC_UFFD_ABI_H

#include <linux/userfaultfd.h>
#include <stdint.h>
#include <sys/ioctl.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define FEATURE_WP_HUGETLBFS_SHMEM (1ULL << 12)
#define FEATURE_WP_UNPOPULATED (1ULL << 13)
#define FEATURE_WP_ASYNC (1ULL << 15)

struct scan_region { uint64_t start, end, categories; };
struct scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define SCAN_IOCTL _IOWR('f', 16, struct scan_arg)
#define SCAN_WP_MATCHING (1ULL << 0)
#define SCAN_CHECK_WPASYNC (1ULL << 1)
#define PAGE_WRITTEN (1ULL << 1)

#endif /* MMSPEC_UFFD_ABI_H */
