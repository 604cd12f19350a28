#!/usr/bin/env bash
# Copies the main screenshots of the last browser-test run (target/screenshots/, written by
# `cargo test -p gatehouse-integration-tests --test e2e browser::`) into docs/screenshots/, where the
# README and docs/screenshots.md show them. Run from anywhere after the browser tests have passed. With
# Debian's pngquant installed, the copies are reduced to 64 colours (a third of the size, text still crisp).
set -euo pipefail
cd "$(dirname "$0")/../.."
from=target/screenshots
to=docs/screenshots
while read -r source name; do
    if command -v pngquant >/dev/null; then
        pngquant --force --strip --speed 1 --output "$to/$name.png" 64 "$from/$source.png"
    else
        cp "$from/$source.png" "$to/$name.png"
    fi
done <<'LIST'
totp/login-desktop sign-in-desktop
totp/second-factor-phone second-factor-phone
themes/login-themed-desktop sign-in-harbour-desktop
themes/login-themed-phone sign-in-harbour-phone
sms/second-factor-sms-phone second-factor-sms-phone
email/second-factor-email-phone second-factor-email-phone
passkey/passkey-sign-in-phone passkey-sign-in-phone
passkey/passkey-create-phone passkey-create-phone
recovery-code/second-factor-recovery-code-phone second-factor-recovery-code-phone
wizard/wizard-desktop wizard-desktop
wizard/wizard-authenticator-app-phone wizard-authenticator-app-phone
wizard/wizard-recovery-codes-phone recovery-codes-phone
sms/account-with-factor-desktop account-desktop
sms/sms-address-phone account-sms-phone
consent/consent-phone consent-phone
consent/error-phone error-phone
forgot-password/forgot-password-phone forgot-password-phone
forgot-password/new-password-phone new-password-phone
backup-link/backup-link-sent-phone backup-link-sent-phone
username/login-username-notice-phone username-notice-phone
passkey/logout-phone logout-phone
wizard-nl/wizard-phone wizard-nl-phone
forgot-password-nl/reset-code-phone reset-code-nl-phone
LIST
du -ch "$to"/*.png | tail -1
