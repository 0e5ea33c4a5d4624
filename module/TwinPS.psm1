# TwinPS's root module. The cmdlets live in dependencies/TwinPS.dll, which loads, with every third-party assembly
# it needs (Azure.Core, Azure.Identity, MSAL, System.ClientModel, MQTTnet, ...), in TwinPS's own
# AssemblyLoadContext: other modules' copies of those assemblies (Az.Accounts, Microsoft.Graph, an Add-Type of an
# older Azure.Core) never meet TwinPS's, in either load order. Only TwinPS.Loader.dll loads in the default context.

# TwinPS.Loader.dll is the manifest's RequiredAssemblies entry: PowerShell has loaded it (once per process, into the
# default context) before this script runs, which is cheaper than loading it from here. Its load context exists from
# the first import on, so a second import (Import-Module -Force, Remove-Module then Import-Module) is told apart here.
$isReload = $null -ne [TwinPS.Loader.ModuleLoadContext]::Instance
$twinPSAssembly = [TwinPS.Loader.ModuleLoadContext]::Initialize()
$innerModule = Microsoft.PowerShell.Core\Import-Module -Assembly $twinPSAssembly -PassThru:$isReload

if ($innerModule) {
    # A second import (Import-Module -Force, Remove-Module then Import-Module) gets PowerShell's cached module for
    # the assembly, whose cmdlets are not added to this module's exports (PowerShell/PowerShell#20710).
    $addExportedCmdlet = [System.Management.Automation.PSModuleInfo].GetMethod(
        'AddExportedCmdlet', [System.Reflection.BindingFlags]'Instance, NonPublic')
    foreach ($cmdlet in $innerModule.ExportedCmdlets.Values) {
        $null = $addExportedCmdlet.Invoke($ExecutionContext.SessionState.Module, @(, $cmdlet))
    }
}

# PowerShell resolves [TypeName] only in the default context, so the module's public types (TwinPS.Models.Twin, ...)
# become type accelerators of the same full name: [TwinPS.Models.Twin], -is and -as keep working.
$typeAccelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')
$addedAccelerators = [TwinPS.Loader.TypeAccelerators]::Add($typeAccelerators, $twinPSAssembly)
# The script block is bound to this module's scope, where the three variables live as long as the module does (no
# GetNewClosure: it would build a second module at every import).
$ExecutionContext.SessionState.Module.OnRemove = {
    [TwinPS.Loader.TypeAccelerators]::Remove($typeAccelerators, $twinPSAssembly, $addedAccelerators)
}
