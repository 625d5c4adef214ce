/*
 * The library's writable data as loaded (.data, .bss, and whatever else its writable segments hold,
 * less the part made read-only after relocation), saved once by the server right after dlopen and
 * written back by a worker before its first machine and after each: every machine starts from the globals a freshly
 * loaded library has, without the cost of a new process (on a virtual machine, a new process pays
 * a page fault of several microseconds for every page it touches).
 *
 * Only the pages the worker has written are copied back: a kernel's static arrays are often sized
 * for the largest machine (a descriptor per frame of 1 GiB is megabytes), and a sequence touches a
 * few of their pages. /proc/self/pagemap tells which: a page the worker wrote is its own copy
 * ("exclusively mapped"), any other page is still the one it shares with the server, which never
 * changes the library's data after the snapshot. Without pagemap, everything is copied.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

#define RANGES_MAX 16

static struct { unsigned char *start; size_t length; unsigned char *saved; } ranges[RANGES_MAX];
static int range_count;

struct search { uintptr_t base; uintptr_t relro_start, relro_end; int found; };

static void add_range(uintptr_t start, uintptr_t end)
{
    if (end <= start || range_count == RANGES_MAX)
        return;
    ranges[range_count].start = (unsigned char *)start;
    ranges[range_count].length = end - start;
    range_count++;
}

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct search *s = arg;
    if (info->dlpi_addr != s->base)
        return 0;
    s->found = 1;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_RELRO) {
            s->relro_start = info->dlpi_addr + ph->p_vaddr;
            s->relro_end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        }
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        /* The RELRO part is read-only by now: it cannot change, and writing it would fault. */
        if (s->relro_end > start && s->relro_start < end) {
            add_range(start, s->relro_start > start ? s->relro_start : start);
            add_range(s->relro_end < end ? s->relro_end : end, end);
        } else {
            add_range(start, end);
        }
    }
    return 1;
}

int snapshot_take(void *library)
{
    struct link_map *map = NULL;
    if (dlinfo(library, RTLD_DI_LINKMAP, &map) != 0 || map == NULL)
        return -1;
    struct search s = { .base = map->l_addr };
    dl_iterate_phdr(visit, &s);
    if (!s.found)
        return -1;
    for (int i = 0; i < range_count; i++) {
        ranges[i].saved = malloc(ranges[i].length);
        if (ranges[i].saved == NULL)
            return -1;
        memcpy(ranges[i].saved, ranges[i].start, ranges[i].length);
    }
    return 0;
}

#define PAGE_PRESENT (1ull << 63)
#define PAGE_SWAPPED (1ull << 62)
#define PAGE_EXCLUSIVE (1ull << 56)

/* Calls visit on each part of one range that lies on a page this process has written (all of it if that cannot be told). */
static void each_written(int pagemap, unsigned char *start, size_t length, const unsigned char *saved,
                         void (*visit)(unsigned char *at, size_t length, const unsigned char *saved))
{
    uintptr_t first = (uintptr_t)start & ~(MM_PAGE_SIZE - 1), end = (uintptr_t)start + length;
    size_t pages = (end - first + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE;
    static uint64_t entries[1 << 15]; /* one read for up to 128 MiB of data */
    int known = pagemap >= 0 && pages <= sizeof entries / sizeof entries[0] &&
                pread(pagemap, entries, pages * sizeof entries[0], (off_t)(first / MM_PAGE_SIZE * sizeof entries[0])) ==
                    (ssize_t)(pages * sizeof entries[0]);
    for (size_t i = 0; i < pages; i++) {
        uint64_t entry = known ? entries[i] : 0;
        int written = !known || (entry & PAGE_SWAPPED) || ((entry & PAGE_PRESENT) && (entry & PAGE_EXCLUSIVE));
        if (!written)
            continue;
        uintptr_t page = first + i * MM_PAGE_SIZE;
        uintptr_t from = page > (uintptr_t)start ? page : (uintptr_t)start;
        uintptr_t to = page + MM_PAGE_SIZE < end ? page + MM_PAGE_SIZE : end;
        visit((unsigned char *)from, to - from, saved + (from - (uintptr_t)start));
    }
}

static int pagemap_fd(void)
{
    static int pagemap = -2;
    if (pagemap == -2)
        pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    return pagemap;
}

static void copy_back(unsigned char *at, size_t length, const unsigned char *saved) { memcpy(at, saved, length); }

void snapshot_restore(void)
{
    for (int i = 0; i < range_count; i++)
        each_written(pagemap_fd(), ranges[i].start, ranges[i].length, ranges[i].saved, copy_back);
}

/*
 * Set-up machines' library data (OP_SNAPSHOT), SNAPSHOTS_KEPT of them (a property's sequences run on five RAM
 * sizes): the parts of the writable data on pages the worker has written, as they were. Restoring one after
 * snapshot_restore() gives the library the globals it had then; every other page is still as loaded.
 */
struct part { unsigned char *at; size_t length; unsigned char *data; };
static struct { struct part *parts; size_t count, capacity; } kept[SNAPSHOTS_KEPT];
static int taking, take_failed;

static void keep_part(unsigned char *at, size_t length, const unsigned char *saved)
{
    (void)saved;
    if (take_failed)
        return;
    if (kept[taking].count == kept[taking].capacity) {
        size_t capacity = kept[taking].capacity ? 2 * kept[taking].capacity : 64;
        void *grown = realloc(kept[taking].parts, capacity * sizeof(struct part));
        if (grown == NULL) {
            take_failed = 1;
            return;
        }
        kept[taking].parts = grown;
        kept[taking].capacity = capacity;
    }
    unsigned char *data = malloc(length);
    if (data == NULL) {
        take_failed = 1;
        return;
    }
    memcpy(data, at, length);
    kept[taking].parts[kept[taking].count++] = (struct part){ at, length, data };
}

static void booted_clear(int slot)
{
    for (size_t i = 0; i < kept[slot].count; i++)
        free(kept[slot].parts[i].data);
    kept[slot].count = 0;
}

int booted_take(int slot)
{
    booted_clear(slot);
    taking = slot;
    take_failed = 0;
    for (int i = 0; i < range_count; i++)
        each_written(pagemap_fd(), ranges[i].start, ranges[i].length, ranges[i].saved, keep_part);
    if (take_failed) {
        booted_clear(slot);
        return -1;
    }
    return 0;
}

void booted_restore(int slot)
{
    for (size_t i = 0; i < kept[slot].count; i++)
        memcpy(kept[slot].parts[i].at, kept[slot].parts[i].data, kept[slot].parts[i].length);
}
