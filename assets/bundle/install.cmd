@echo off
rem Installs helpmig {{version}} from this folder without the internet:
rem a virtual environment in venv\ beside this file, filled from wheels\ (hashes checked).
setlocal
set "HERE=%~dp0"
set "PY="

rem The py launcher first, newest supported Python first; then a python.exe on PATH.
for %%V in ({{pythons_newest_first}}) do if not defined PY py -%%V -c "pass" >nul 2>&1 && set "PY=py -%%V"
if defined PY goto found
python -c "import sys; sys.exit(0 if sys.version_info[:2] in [{{python_tuples}}] else 1)" >nul 2>&1 && set "PY=python"
if defined PY goto found
echo helpmig: no Python {{pythons}} (64-bit) found on this server. 1>&2
echo Install one with the python.org installer copied with this bundle (see README.txt), then run install.cmd again. 1>&2
exit /b 2

:found
echo Creating the virtual environment "%HERE%venv" with %PY% ...
%PY% -m venv "%HERE%venv"
if errorlevel 1 goto failed
rem No index, no network, no pip configuration of this machine: only the wheels beside this file.
set "PIP_CONFIG_FILE=nul"
"%HERE%venv\Scripts\python.exe" -m pip install --isolated --no-index --find-links "%HERE%wheels" --require-hashes --no-warn-script-location --disable-pip-version-check -r "%HERE%requirements.txt"
if errorlevel 1 goto failed
echo.
echo helpmig {{version}} is installed. Run helpmig.cmd in this folder, or "%HERE%venv\Scripts\helpmig.exe".
exit /b 0

:failed
echo helpmig: the installation failed; the lines above say why. Nothing outside "%HERE%venv" was changed. 1>&2
exit /b 1
