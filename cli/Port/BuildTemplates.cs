namespace Mmspec.Cli.Port;

/// <summary>
/// How a port is built, as <c>mmspec port init</c> writes it: a Makefile that links the glue and the kernel's sources
/// into one shared library against the installed mmspec.h, and the linker version script that exports exactly what
/// the host looks up.
/// </summary>
public static class BuildTemplates
{
    public const string MakefileName = "Makefile";

    public const string ExportsName = "mmspec_exports.map";

    /// <summary>The library the Makefile builds, beside it.</summary>
    public const string LibraryName = "libport.so";

    /// <param name="includeDirectory">The absolute folder of the mmspec.h this mmspec carries; the Makefile's default, which MMSPEC_INCLUDE overrides.</param>
    public static string Makefile(string includeDirectory) => MakefileText
        .Replace("@MMSPEC_INCLUDE@", includeDirectory, StringComparison.Ordinal)
        // Recipes need a tab; written as a marker here so that no editor turns it into spaces.
        .Replace("<TAB>", "\t", StringComparison.Ordinal);

    // No -fvisibility=hidden: the version script decides what is exported, and a kernel's sources compiled hidden
    // could not replace the glue's weak stubs (a hidden definition stays hidden whatever the script says).
    private const string MakefileText =
        """
        # Builds libport.so, your kernel's memory manager as mmspec checks it (written by `mmspec port init`).
        #   make                                  # then: mmspec check --impl native:./libport.so
        #   make KERNEL_SRC="../mm/page_alloc.c ../mm/paging.c" KERNEL_CFLAGS="-I../include"

        # The folder of mmspec.h, as installed with the mmspec that wrote this file.
        MMSPEC_INCLUDE ?= @MMSPEC_INCLUDE@

        # Your kernel's memory-manager sources, and what they need to compile (include folders, defines).
        KERNEL_SRC ?=
        KERNEL_CFLAGS ?=

        CFLAGS ?= -O2 -g -Wall -Wextra
        PORT_FLAGS = -fPIC -shared -I$(MMSPEC_INCLUDE) -Wl,--version-script=mmspec_exports.map

        SRC = mmspec_glue.c $(KERNEL_SRC)

        libport.so: $(SRC) mmspec_exports.map $(MMSPEC_INCLUDE)/mmspec.h
        <TAB>$(CC) $(CFLAGS) $(KERNEL_CFLAGS) $(PORT_FLAGS) -o $@ $(SRC)

        clean:
        <TAB>rm -f libport.so

        .PHONY: clean

        """;

    public const string Exports =
        """
        /*
         * The symbols the mmspec host looks up (written by `mmspec port init`). Everything else in libport.so stays
         * local, so your kernel's own globals (printk, panic, memcpy, ...) never clash with the host's or libc's.
         */
        {
            global:
                mmspec_init;
                mmspec_space_create;
                mmspec_space_root;
                mm_phys_alloc_page;
                mm_phys_alloc_contiguous;
                mm_phys_free_page;
                kmalloc;
                kfree;
                mm_map_single;
                mm_map_get;
                mm_umap_single;
                vmfind;
                vmalloc;
                vmfree;
            local:
                *;
        };

        """;
}
