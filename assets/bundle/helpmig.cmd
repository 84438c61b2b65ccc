@echo off
rem Runs helpmig from the virtual environment that install.cmd created beside this file.
if exist "%~dp0venv\Scripts\python.exe" goto run
echo helpmig: not installed yet: run install.cmd in %~dp0 first. 1>&2
exit /b 2

:run
"%~dp0venv\Scripts\python.exe" -m helpmig_tui %*
exit /b %ERRORLEVEL%
