// A PowerShell host for the documented-commands runner: it stands for the user at the console, answering 'Yes' to every
// confirmation and typing the connection string a Read-Host prompt asks for (a device's when the prompt says "device").
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace TwinPSDocs
{
    public sealed class AnsweringHost : PSHost
    {
        private readonly AnsweringUI _ui = new AnsweringUI();
        private readonly Guid _id = Guid.NewGuid();

        public AnsweringUI Answers { get { return _ui; } }
        public override string Name { get { return "TwinPS documented-commands runner"; } }
        public override Version Version { get { return new Version(1, 0); } }
        public override Guid InstanceId { get { return _id; } }
        public override PSHostUserInterface UI { get { return _ui; } }
        public override CultureInfo CurrentCulture { get { return CultureInfo.CurrentCulture; } }
        public override CultureInfo CurrentUICulture { get { return CultureInfo.CurrentUICulture; } }
        public override void SetShouldExit(int exitCode) { }
        public override void EnterNestedPrompt() { throw new NotSupportedException("No nested prompts here."); }
        public override void ExitNestedPrompt() { throw new NotSupportedException("No nested prompts here."); }
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
    }

    public sealed class AnsweringUI : PSHostUserInterface
    {
        private string _written = string.Empty;

        /// <summary>What the user types at a prompt for a service (hub) connection string.</summary>
        public string ServiceAnswer { get; set; }

        /// <summary>What the user types at a prompt that mentions a device.</summary>
        public string DeviceAnswer { get; set; }

        /// <summary>The confirmations asked (and answered Yes), for the runner's report.</summary>
        public List<string> Confirmations { get; } = new List<string>();

        /// <summary>The Read-Host prompts answered.</summary>
        public List<string> Prompts { get; } = new List<string>();

        public override PSHostRawUserInterface RawUI { get { return null; } }

        private string Answer(string prompt)
        {
            Prompts.Add(prompt);
            string text = prompt.IndexOf("device", StringComparison.OrdinalIgnoreCase) >= 0 ? DeviceAnswer : ServiceAnswer;
            if (text == null) throw new InvalidOperationException("The runner has no answer for the prompt '" + prompt + "'.");
            return text;
        }

        private static SecureString Secure(string text)
        {
            var secure = new SecureString();
            foreach (char c in text) secure.AppendChar(c);
            secure.MakeReadOnly();
            return secure;
        }

        public override string ReadLine() { string prompt = _written; _written = string.Empty; return Answer(prompt); }
        public override SecureString ReadLineAsSecureString() { string prompt = _written; _written = string.Empty; return Secure(Answer(prompt)); }

        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
        {
            var answers = new Dictionary<string, PSObject>();
            foreach (FieldDescription field in descriptions)
            {
                string text = Answer(field.Name + " " + caption + " " + message);
                answers[field.Name] = field.ParameterTypeFullName == typeof(SecureString).FullName ? new PSObject(Secure(text)) : new PSObject(text);
            }
            return answers;
        }

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            Confirmations.Add(message);
            for (int i = 0; i < choices.Count; i++)
            {
                if (string.Equals(choices[i].Label.Replace("&", string.Empty), "Yes", StringComparison.OrdinalIgnoreCase)) return i;
            }
            throw new InvalidOperationException("A choice without 'Yes': " + caption + " " + message);
        }

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName)
        {
            throw new NotSupportedException("The runner types no credentials.");
        }

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options)
        {
            throw new NotSupportedException("The runner types no credentials.");
        }

        public override void Write(string value) { _written += value; }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) { _written += value; }
        public override void WriteLine(string value) { _written = string.Empty; }
        public override void WriteErrorLine(string value) { }
        public override void WriteDebugLine(string message) { }
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override void WriteVerboseLine(string message) { }
        public override void WriteWarningLine(string message) { }
    }
}
