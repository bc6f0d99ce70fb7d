; Inno Setup 6 script for PVDesk on Windows: installs the PyInstaller folder dist\PVDesk.
;
; Built by installer\windows\build.ps1, which passes the version from desktop\version.py:
;   ISCC /DAppVersion=<version> installer\windows\pvdesk.iss
; Optional defines: /DSourceDir=<folder with PVDesk.exe> /DOutputDir=<folder> /DIconFile=<pvdesk.ico>
;
; Installs per user by default (no administrator needed; %LOCALAPPDATA%\Programs\PVDesk), or for
; all users when the installer is started as administrator. PVDesk writes nothing into its program
; folder: data, logs and settings live in the user's AppData (see docs\installers.md), and the
; uninstaller leaves them there.

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=x.y.z (installer\windows\build.ps1 reads desktop\version.py)
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\PVDesk"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#ifndef IconFile
  #define IconFile "..\..\build\icons\pvdesk.ico"
#endif

[Setup]
AppId={{6A0F5C7E-2B1D-4C8E-9A53-0D4E7B1C2F90}
AppName=PVDesk
AppVersion={#AppVersion}
AppVerName=PVDesk {#AppVersion}
AppPublisher=PVDesk
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\PVDesk
DefaultGroupName=PVDesk
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=PVDesk-{#AppVersion}-windows-x64-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\PVDesk.exe
UninstallDisplayName=PVDesk {#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; an upgrade replaces the libraries as a whole, so nothing of the previous version lingers
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\PVDesk"; Filename: "{app}\PVDesk.exe"
Name: "{autoprograms}\PVDesk demo (simulated inverter)"; Filename: "{app}\PVDesk.exe"; Parameters: "--demo"
Name: "{autodesktop}\PVDesk"; Filename: "{app}\PVDesk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\PVDesk.exe"; Description: "{cm:LaunchProgram,PVDesk}"; Flags: nowait postinstall skipifsilent
