using TwinPS.Emulator.Hosting;

namespace TwinPS.Emulator;

/// <summary>Entry point: <c>TwinPS.Emulator [--https-port N] [--mqtt-port N] [--data PATH | --in-memory] [--bind ADDRESS] [--hub-name NAME]</c>.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        EmulatorOptions options;
        try
        {
            options = EmulatorOptions.Parse(args);
        }
        catch (OptionsException ex)
        {
            await Console.Error.WriteLineAsync("TwinPS.Emulator: " + ex.Message).ConfigureAwait(false);
            return 2;
        }

        if (options.ShowHelp)
        {
            await Console.Out.WriteLineAsync(EmulatorOptions.HelpText).ConfigureAwait(false);
            return 0;
        }

        return await EmulatorHost.RunAsync(options).ConfigureAwait(false);
    }
}
