# Build PVDesk for Windows: dist\PVDesk\ (PVDesk.exe, pvdesk-cli.exe) and, with Inno Setup 6
# installed, dist\PVDesk-<version>-windows-x64-setup.exe.
#
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1 -ReleaseKeys DIR [-Clean] [-Python PATH] [-Iscc PATH]
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1 -Dev ...   (development build: trusts the dev key)
#
# A release build trusts only the release public keys in DIR (kept outside the repository;
# PVDESK_RELEASE_KEYS does the same) and refuses the development key (installer\release_keys.py).
#
# Needs: Python 3.11+ with PVDesk installed (python -m venv .venv; .venv\Scripts\pip install -e .[build]),
# and Inno Setup 6 (https://jrsoftware.org/isinfo.php) for the installer. The version comes from
# desktop\version.py and is handed to Inno Setup as /DAppVersion.
param(
    [switch]$Clean,
    [switch]$Dev,
    [string]$ReleaseKeys = "",
    [string]$Python = ".venv\Scripts\python.exe",
    [string]$Iscc = ""
)
$ErrorActionPreference = "Stop"
Set-Location (Resolve-Path (Join-Path $PSScriptRoot "..\.."))

function Invoke-Checked([string]$What, [scriptblock]$Block) {
    & $Block
    if ($LASTEXITCODE -ne 0) { throw "build.ps1: $What failed (exit $LASTEXITCODE)" }
}

if (-not (Test-Path $Python)) { throw "build.ps1: $Python not found; create .venv and pip install -e .[build] first" }
& $Python -c "import PyInstaller" 2>$null
if ($LASTEXITCODE -ne 0) { Invoke-Checked "installing PyInstaller" { & $Python -m pip install -q -e ".[build]" } }

if ($Dev) { $env:PVDESK_DEV_BUILD = "1" }
if ($ReleaseKeys) { $env:PVDESK_RELEASE_KEYS = $ReleaseKeys }
Invoke-Checked "release keys" { & $Python installer\release_keys.py check }

$Version = (& $Python -c "from desktop.version import __version__; print(__version__)").Trim()
Write-Host "build.ps1: PVDesk $Version"

Invoke-Checked "rendering the icons" { & $Python installer\make_icons.py build\icons }
$env:PVDESK_ICON_DIR = (Resolve-Path build\icons).Path
$pyiArgs = @("--noconfirm", "--log-level", "WARN", "--distpath", "dist", "--workpath", "build")
if ($Clean) { $pyiArgs += "--clean" }
Invoke-Checked "PyInstaller" { & $Python -m PyInstaller @pyiArgs installer\pvdesk.spec }

# The console twin of PVDesk.exe proves the bundle works before it is packed.
Invoke-Checked "pvdesk-cli --version" { & dist\PVDesk\pvdesk-cli.exe --version }
Invoke-Checked "pvdesk-cli --self-test" { & dist\PVDesk\pvdesk-cli.exe --self-test }
Invoke-Checked "size report" { & $Python installer\bundle_report.py dist\PVDesk }

if (-not $Iscc) {
    $candidates = @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
                    "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe")
    $Iscc = $candidates | Where-Object { Test-Path $_ } | Select-Object -First 1
}
if (-not $Iscc) {
    Write-Warning "Inno Setup 6 (ISCC.exe) not found: dist\PVDesk is built, the installer is not. Install Inno Setup 6 or pass -Iscc."
    exit 0
}
Invoke-Checked "Inno Setup" {
    & $Iscc "/DAppVersion=$Version" "/DSourceDir=$((Resolve-Path dist\PVDesk).Path)" `
        "/DOutputDir=$((Resolve-Path dist).Path)" "/DIconFile=$((Resolve-Path build\icons\pvdesk.ico).Path)" `
        installer\windows\pvdesk.iss
}
Write-Host "build.ps1: dist\PVDesk-$Version-windows-x64-setup.exe"
