namespace Mmspec.Models.Mmu;

/// <summary>What the access wants to do with the byte. x86 has no "no-read" bit, so Read only needs a present mapping.</summary>
public enum AccessKind
{
    Read,
    Write,
    Execute,
}

/// <summary>CPL 3 is User; CPL 0..2 (and implicit supervisor accesses) are Supervisor.</summary>
public enum Privilege
{
    User,
    Supervisor,
}

/// <summary>One memory access, as the page-fault error code would describe it.</summary>
public readonly record struct Access(AccessKind Kind, Privilege Privilege)
{
    public static Access UserRead => new(AccessKind.Read, Privilege.User);
    public static Access UserWrite => new(AccessKind.Write, Privilege.User);
    public static Access UserExecute => new(AccessKind.Execute, Privilege.User);
    public static Access SupervisorRead => new(AccessKind.Read, Privilege.Supervisor);
    public static Access SupervisorWrite => new(AccessKind.Write, Privilege.Supervisor);
    public static Access SupervisorExecute => new(AccessKind.Execute, Privilege.Supervisor);

    public override string ToString() => $"{Privilege} {Kind}";
}
