# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
RUN powershell -Command `
    Write-Host hello
FROM `
  mcr.microsoft.com/powershell:lts `
  AS ps
