namespace Mmspec.Cli.Port;

/// <summary>README.md of a new port: what to fill in, how to build and check it, where the porting guide is.</summary>
public static class ReadmeTemplate
{
    public const string FileName = "README.md";

    /// <param name="checkCommand">How this mmspec is run (<see cref="Invocation.Command"/>), so the check line can be pasted as is.</param>
    public static string Text(string checkCommand) => ReadmeText.Replace("@MMSPEC@", checkCommand, StringComparison.Ordinal);

    private const string ReadmeText =
        """
        # An mmspec port

        Written by `mmspec port init`: the starting point for checking your kernel's memory manager with mmspec.
        Built unchanged it compiles, loads and fails `check` at boot with
        `PortStub: mmspec port: not implemented: mmspec_init (fill it in in mmspec_glue.c)`; each stub you fill in moves
        that message on to the next one the suite reaches.

        | file | what it is |
        | --- | --- |
        | `mmspec_glue.c` | the hooks the host calls (`mmspec_init`, `mmspec_space_create`, `mmspec_space_root`), flag translation both ways, and a weak stub of each spec function |
        | `Makefile` | builds `libport.so` from the glue and `KERNEL_SRC` against `mmspec.h` (`MMSPEC_INCLUDE`) |
        | `mmspec_exports.map` | the symbols the host looks up; everything else in the library stays local |

        ## What to fill in

        1. `mmspec_init`: your boot code. Keep `mmspec_hosted_setup(env)` first, initialise the frame allocator over
           `[0, env->ram_size)` and build the kernel half of the page tables, with the direct map at `MM_KERNEL_BASE`.
        2. `mmspec_space_create` and `mmspec_space_root`: a new address space, and the physical address of its PML4.
        3. The flag translation, if your kernel's flags are not the spec's (`MM_PAGE_USER` 1, `WRITE` 2, `EXEC` 4).
        4. The spec functions: list your kernel's sources in `KERNEL_SRC`; each function they define under the spec's
           name and prototype replaces the glue's stub. Fill in the others as wrappers around your kernel's calls.

        Your code reaches physical address `p` at `MM_VIRTUALIZE(p)`; `kmalloc` returns such a pointer. Stub locks and TLB
        flushes as no-ops, panic with `mmspec_panic_hook("Name: details")`, and keep allocator metadata in your own pages or
        in ordinary globals. The porting guide, `native/README.md` in mmspec ("Porting your kernel's mm code"), says what
        the suite observes at boot, which choices are yours, and what to do when your kernel's names collide with the spec's.

        ## Build and check

        ```sh
        make KERNEL_SRC="path/to/mm/*.c" KERNEL_CFLAGS="-Ipath/to/include"
        @MMSPEC@ check --impl native:./libport.so --report reports
        ```

        `check` exits 0 when the port is conformant, 1 with the broken clauses, each with a shrunk sequence of calls and
        a C reproducer in `reports/repro/`. It finds `mmspec-host` through `$MMSPEC_HOST`, beside the library, or in the
        mmspec checkout it runs from.

        """;
}
