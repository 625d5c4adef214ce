namespace Mmspec.Models.Mmu;

/// <summary>
/// The rights that survive the whole walk: R/W and U/S are ANDed over the four levels and
/// XD is ORed, so one restrictive entry anywhere on the path restricts the page.
/// </summary>
public readonly record struct Permissions(bool Writable, bool User, bool Executable)
{
    /// <summary>The identity of the combination: what the walk starts from before reading any entry.</summary>
    public static Permissions All => new(Writable: true, User: true, Executable: true);

    /// <summary>Folds one more present entry into the rights accumulated so far.</summary>
    public Permissions Restrict(PageTableEntry entry) =>
        new(Writable && entry.Writable, User && entry.User, Executable && !entry.NoExecute);

    public override string ToString() =>
        $"{(User ? "user" : "supervisor")} r{(Writable ? 'w' : '-')}{(Executable ? 'x' : '-')}";
}
