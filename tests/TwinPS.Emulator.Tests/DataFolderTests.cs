using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

/// <summary>
/// <c>--data DIR</c> rights (issue 8, finding 3): a folder the emulator creates is owner-only, an existing folder's
/// mode is never changed, a folder others can write is refused, and the files holding keys are owner-only themselves.
/// </summary>
public sealed class DataFolderTests : IDisposable
{
    private const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly string[] KeyFiles = ["twinps-emulator.db", "twinps-emulator.db-wal", "twinps-emulator.db-shm", "ca.key.pem", "server.key.pem"];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "twinps-datatest-" + Guid.NewGuid().ToString("N")[..8]);

    public DataFolderTests()
    {
        if (!OperatingSystem.IsWindows()) Directory.CreateDirectory(_root, Owner);
    }

    [Fact]
    public void A_new_data_folder_is_created_owner_only_and_every_key_file_is_owner_only()
    {
        if (OperatingSystem.IsWindows()) return; // Unix modes
        string data = Path.Combine(_root, "new", "data");
        using (EmulatorProcess emulator = Start(data))
        {
            Assert.Equal(Owner, File.GetUnixFileMode(data));
            AssertKeyFilesOwnerOnly(data);

            // The PEM files are plain ASCII (no byte-order mark), readable by any PEM reader.
            foreach (string pem in new[] { "ca.pem", "ca.key.pem", "server.pem", "server.key.pem" })
                Assert.Equal((byte)'-', File.ReadAllBytes(Path.Combine(data, pem))[0]);
        }
    }

    [Fact]
    public void An_existing_folder_keeps_its_mode_and_an_older_store_file_is_made_owner_only()
    {
        if (OperatingSystem.IsWindows()) return;
        string data = Path.Combine(_root, "shared-read");
        Directory.CreateDirectory(data);
        UnixFileMode mode = Owner | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute | UnixFileMode.SetGroup;
        File.SetUnixFileMode(data, mode);
        string db = Path.Combine(data, "twinps-emulator.db");
        File.WriteAllBytes(db, []);
        File.SetUnixFileMode(db, OwnerFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        using (EmulatorProcess emulator = Start(data))
        {
            Assert.Equal(mode, File.GetUnixFileMode(data));
            AssertKeyFilesOwnerOnly(data);
        }

        Assert.Equal(mode, File.GetUnixFileMode(data));
    }

    [Theory]
    [InlineData("1777")]
    [InlineData("0770")]
    [InlineData("0702")]
    public async Task A_folder_others_can_write_is_refused_with_a_clear_message_and_left_as_it_was(string octal)
    {
        if (OperatingSystem.IsWindows()) return;
        string data = Path.Combine(_root, "shared-" + octal);
        Directory.CreateDirectory(data);
        var mode = (UnixFileMode)Convert.ToInt32(octal, 8);
        File.SetUnixFileMode(data, mode);

        using var process = EmulatorProcess.StartRaw("--https-port", "0", "--mqtt-port", "0", "--data", data);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        bool exited = process.WaitForExit(60_000);
        if (!exited) process.Kill(entireProcessTree: true);
        Assert.True(exited, "the emulator started on a folder others can write");
        process.WaitForExit();

        Assert.Equal(1, process.ExitCode);
        Assert.Equal(string.Empty, await stdout);
        Assert.Contains("can be written by other users", await stderr, StringComparison.Ordinal);
        Assert.Contains(data, await stderr, StringComparison.Ordinal);
        Assert.Equal(mode, File.GetUnixFileMode(data));
        Assert.Empty(Directory.EnumerateFileSystemEntries(data));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static EmulatorProcess Start(string data) => EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--data", data);

    private static void AssertKeyFilesOwnerOnly(string data)
    {
        if (OperatingSystem.IsWindows()) return;
        foreach (string name in KeyFiles)
        {
            string path = Path.Combine(data, name);
            Assert.True(File.Exists(path), name + " missing");
            Assert.Equal(OwnerFile, File.GetUnixFileMode(path));
        }
    }
}
