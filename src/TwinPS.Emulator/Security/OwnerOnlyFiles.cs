using System.Globalization;

namespace TwinPS.Emulator.Security;

/// <summary>
/// File-system rights for what the emulator keeps on disk (docs/emulator-fidelity.md, "Data folder"): a data folder
/// it creates is owner-only (0700); an existing folder's mode is never changed, and one that other users can write is
/// refused; files that hold keys (the SQLite store and its WAL/SHM, the private keys) are owner-only (0600) themselves.
/// Nothing to do on Windows, where a new folder inherits the user profile's ACL.
/// </summary>
internal static class OwnerOnlyFiles
{
    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode WritableByOthers = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <summary>Creates <paramref name="folder"/> owner-only, or checks an existing one without changing it.</summary>
    /// <exception cref="DataFolderException">The existing folder can be written by group or others.</exception>
    public static void PrepareFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }

        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder, FolderMode);
            return;
        }

        UnixFileMode mode = File.GetUnixFileMode(folder);
        if ((mode & WritableByOthers) != 0)
        {
            throw new DataFolderException(
                $"the data folder '{folder}' can be written by other users (mode {Octal(mode)}), and it would hold the hub's keys. " +
                "Give a folder only you can write: a folder that does not exist yet is created owner-only (0700), or remove the others' write right yourself (chmod go-w).");
        }
    }

    /// <summary>Makes an existing file owner-only (0600); creates it empty and owner-only when <paramref name="create"/> and missing.</summary>
    public static void Restrict(string path, bool create = false)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (File.Exists(path))
        {
            if ((File.GetUnixFileMode(path) & ~OwnerFileMode) != 0) File.SetUnixFileMode(path, OwnerFileMode);
        }
        else if (create)
        {
            using var stream = new FileStream(path, new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerFileMode });
        }
    }

    /// <summary>Writes <paramref name="path"/> (through a temporary file, replaced atomically), owner-only from its creation when <paramref name="secret"/>.</summary>
    public static void WriteAllText(string path, string text, bool secret)
    {
        string temp = path + ".tmp";
        File.Delete(temp);
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
        if (secret && !OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerFileMode;
        using (var writer = new StreamWriter(temp, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), options))
        {
            writer.Write(text);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0').ToString(CultureInfo.InvariantCulture);
}

/// <summary>The data folder cannot be used safely; the message says why and what to do.</summary>
internal sealed class DataFolderException(string message) : Exception(message);
