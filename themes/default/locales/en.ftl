# English. Every sentence Gatehouse shows or sends, by message key.
# Adding a language: copy this file to <code>.ftl (e.g. de.ftl) and translate every message; a test fails
# when a key is missing in any language, or when a message uses other { $variables } than here.

language-name = English
language-switcher = Language

## Shared across pages

continue-to = to continue to { $app }
continue-to-account = your account
field-email = E-mail address
field-password = Password
field-code = Code
field-code-email = Code from the e-mail
field-code-sms = Code from the text message
field-code-app = Code from the app
field-recovery-code = Recovery code
field-new-password = New password
field-new-password-again = New password again
field-current-password = Current password
button-continue = Continue
button-cancel = Cancel
button-confirm = Confirm
back-to-sign-in = Back to sign in
check-your-email = Check your e-mail
code-sent-to = We sent a code to { $destination }.
code-mail-can-take-a-minute = It can take a minute to arrive; check your spam folder too.

## Sign-in page (login.html)

login-title = Sign in
login-button = Sign in
login-username-typed = You now sign in with your e-mail address instead of a username. Type your e-mail address below.
login-used-username = I used to sign in with a username
login-forgot = Forgot your password?
login-with-passkey = Sign in with a passkey
login-wrong-credentials = The e-mail address or password is not right. Check both and try again.
login-throttled = There were too many attempts to sign in. Wait 15 minutes, then try again.
login-busy-title = It is very busy right now
login-busy = Sign-in is very busy right now. Try again in a few seconds.

## Error pages (error.html)

error-title = Something went wrong
error-detail = Details for the app's developers:
error-what-next = Go back to the application you came from and try again. If this keeps happening, contact the company that runs it.
error-expired-title = This sign-in page has expired
error-expired-text = For your safety, sign-in pages are only valid for a short time and in the browser that opened them.
error-unavailable-title = Gatehouse is briefly unavailable
error-unavailable-text = Please try again in a few seconds. Nothing was changed.
error-forbidden-title = This form could not be accepted
error-forbidden-text = The form was sent from a page we did not recognise, or it was open for too long.
error-internal-title = Something went wrong on our side
error-internal-text = Your request could not be completed right now. Nothing was changed.
error-bad-sign-in-link = This sign-in link does not work
error-bad-sign-out-link = This sign-out link does not work
error-link-from-app = The application sent you here with a link that is not valid.
error-link-used-title = This link does not work any more
error-link-used-text = Links to set your password work once, for 24 hours. Go to the sign-in page and choose "I used to sign in with a username" to get a new one.
error-method-not-offered-title = This way of signing in is not offered here
error-method-not-offered-text = Go back to your account page and choose one of the ways it offers.
error-backup-link-title = This sign-in link does not work here
error-backup-link-text = A sign-in link works once, for 15 minutes, and only in the browser where you asked for it. Go back to the sign-in page there, or start signing in again.
error-no-such-page-title = This page does not exist
error-no-such-page-text = Go back to your account page.
error-no-passkeys-title = Passkeys are not available here
error-no-passkeys-text = This service is not reachable under a host name, so browsers will not use passkeys with it.
error-page-failed = Gatehouse could not show this page.

## Home page (home.html)

home-title = Welcome
home-lead = The sign-in service at
home-try-demo = Try it: sign in to the demo app
home-demo-account = Demo account (e-mail address · password):
home-discovery = Applications find this service at

## Consent (consent.html)

consent-title = Allow access
consent-heading = Allow access?
consent-lead = { $app } would like to:
consent-allow = Allow
consent-deny = Do not allow
scope-openid = Know who you are
scope-profile = See your name
scope-email = See your e-mail address
scope-offline-access = Stay connected when you are not using it

## Signing out (logout.html, logged_out.html)

logout-title = Sign out
logout-heading = Sign out?
logout-asked-by = { $app } asked to sign you out.
logout-about-to = You are about to sign out.
logout-button = Sign out
logged-out-title = Signed out
logged-out-heading = You are signed out
logged-out-close = You can close this window.

## Demo app (demo.html)

demo-title = Demo app
demo-try-again = Try again
demo-signed-in-as = You are signed in as { $name }. This is what the app received.
demo-id-token = ID token claims (verified)
demo-userinfo = UserInfo response
demo-failed = The demo app could not finish signing in.

## Second step (mfa.html)

mfa-title = Two-step verification
mfa-passkey-intro = Use your passkey. Your phone, computer or security key will ask for your fingerprint, face or PIN.
mfa-passkey-needs-js = Passkeys need JavaScript. Turn it on, or use another method below.
mfa-totp-intro = Open your authenticator app and type the 6-digit code it shows for { $issuer }.
mfa-recovery-intro = Type one of the recovery codes you saved when you set up two-step verification. Each code works once.
mfa-remember = { $days ->
    [one] Don't ask again on this device for { $days } day
   *[other] Don't ask again on this device for { $days } days
}
mfa-send-new-code = Send a new code
mfa-other-methods = Use another method
mfa-backup-link = I can't use my second factor: e-mail me a sign-in link
mfa-use-passkey = Use your passkey
mfa-use-totp = Use your authenticator app
mfa-use-sms = Send a code by text message
mfa-use-email = Send a code to your other e-mail address
mfa-use-recovery-code = Use a recovery code
mfa-wrong-code = That code is not right. Check it and try again.
mfa-too-many-wrong = There were too many wrong codes. Wait 15 minutes, then try again, or use another method.
mfa-locked = Your second step is locked after too many wrong codes. Use one of your recovery codes, or contact the company that runs this service to unlock it.
mfa-wait-before-new-code = Wait half a minute before asking for another code.
mfa-too-many-codes = Too many codes were sent. Wait 15 minutes, or use another method.
mfa-could-not-send = We could not send the code just now. Try again in a minute, or use another method.
passkey-use = Use my passkey

## After a recovery code (recovery_used.html)

recovery-used-title = Recovery code used
recovery-used-heading = You are signed in
recovery-used-gone = You used a recovery code. That code no longer works.
recovery-codes-left = Recovery codes left:
recovery-used-make-new = Make a new set on your account page soon.

## Account page (account.html)

account-title = Your account
account-signed-in-as = Signed in as { $email }
account-factor-added = added { $date }
account-factor-asked-first = asked first
account-factor-make-first = Ask for this one first
field-factor-name = Name
account-factor-rename = Rename
field-password-to-confirm = Your password, to confirm
account-factor-remove = Remove
field-password-for-recovery-codes = Your password, to make a new set of recovery codes
account-make-recovery-codes = Make new recovery codes
account-mfa-off = Two-step verification is off. Turn it on so that a stolen password alone is not enough to get into your account.
account-devices = Remembered devices
account-devices-hint = These browsers do not ask for a second step for a while.
account-device-used = last used { $last_used }, until { $until }
account-device-forget = Forget this device
account-unknown-browser = Unknown browser
account-sign-ins = Recent sign-ins
account-unknown-device = Unknown device
account-change-password = Change password
account-add-method = Add a way to confirm it's you
account-add-passkey = Create a passkey (fingerprint, face or screen lock)
account-add-totp = Add an authenticator app
account-add-sms = Get codes by text message
account-add-email = Get codes by e-mail
backup-address-title = Backup e-mail address
account-backup-address-set = If you cannot use your second factor, we can send a one-time sign-in link to { $address }.
account-backup-address-change = Use another address
account-backup-address-why = If you ever cannot use your second factor, a backup address can receive a one-time sign-in link.
account-backup-address-add = Add a backup e-mail address
method-totp = Authenticator app
method-email = Codes by e-mail
method-sms = Codes by text message
method-passkey = Passkey
method-recovery-code = Recovery code
method-other = Second factor
method-sms-to = Text messages to { $number }
method-email-to = E-mails to { $address }
account-notice-totp-added = Your authenticator app is set up. From now on you will be asked for a code when you sign in.
account-notice-saved = Saved.
account-notice-factor-removed = The second step was removed.
account-notice-device-forgotten = That device will be asked for a second step again.
account-notice-password-changed = Your password is changed. You are signed out everywhere else.
account-notice-backup-address-set = Your backup e-mail address is saved.
account-wrong-password = That password is not right. Nothing was changed.
account-last-factor = You need at least one second step. Add another one before you remove this one.
account-factor-not-found = That second step was not found. Nothing was changed.
account-recovery-needs-factor = Set up a second step first; recovery codes stand in for it.
account-not-saved = That could not be saved. Nothing was changed.

## Password rules and changes

password-not-changed = Your password was not changed:
password-repeat-differs = The two new passwords are not the same. Type them again.
password-same-as-current = The new password is the same as the current one. Choose another.
new-password-title = Choose a new password
new-password-tip = A few words that are easy for you to remember and hard for others to guess work well.
new-password-save = Save the new password
password-rules-composition = At least { $min } characters, with a lower-case letter, an upper-case letter, a digit and a special character.
password-rules-nist = At least { $min } characters. A few words you will remember make a good password.
password-too-short = Use at least { $min } characters.
password-too-long = Use at most { $max } characters.
password-no-lower-case = Add a lower-case letter (a–z).
password-no-upper-case = Add an upper-case letter (A–Z).
password-no-digit = Add a digit (0–9).
password-no-special-character = Add a special character, such as ! # % or a space.
password-common = This password is too common: it appears in lists of leaked passwords. Choose another.
password-contains-email = Leave your e-mail address, and the part before the @, out of the password.

## Authenticator app set-up (totp_enrol.html)

totp-title = Add an authenticator app
totp-step-open = Open an authenticator app on your phone and choose to add an account.
totp-step-scan = Scan this QR code with the app.
totp-qr-alt = QR code for { $issuer }, account { $email }
totp-step-key = Can't scan it? Type this key into the app instead, with { $issuer } as the name:
totp-step-code = Type the 6-digit code the app now shows.
field-app-name = Name for this app (optional)
field-app-name-example = For example: my phone
totp-turn-on = Turn on
totp-too-slow = That took too long. Scan this new code and try again.
totp-wrong-code = That code is not right. Check the time on your phone and enter the code the app shows now.

## Recovery codes (recovery_codes.html)

recovery-codes-title = Your recovery codes
recovery-codes-heading = Save your recovery codes
recovery-codes-why = If you lose your phone, each of these codes lets you sign in once instead of a code from the app. Print them or keep them somewhere safe.
recovery-codes-only-now = They are shown only now.
recovery-codes-old-gone = Any older recovery codes no longer work.
recovery-codes-saved = I have saved them

## Codes by text message or e-mail (code_enrol.html)

code-enrol-type-it = Type it here to confirm.
code-enrol-sms-why = When you sign in, we will send a code to this mobile number by text message.
code-enrol-known-number = We have this mobile number for you: { $number }. If it is still yours, send a code to it. If not, type your current number instead.
field-mobile-number = Mobile number, with country code
code-enrol-send = Send a code
code-enrol-backup-why = If you ever cannot use your second factor, we can send a one-time sign-in link to this address. Use an address other than { $login_email }, one that only you can read.
code-enrol-email-why = When you sign in, we will send a code to this address. Use an address other than { $login_email }, so that someone who knows your password cannot also read the code.
field-second-email = Second e-mail address
code-enrol-bad-number = That is not a phone number we can use. Type it with the country code, for example +31 6 1234 5678.
code-enrol-not-mobile = That is not a mobile number. Text messages only reach mobile phones.
code-enrol-country = We cannot send text messages to numbers in that country. Choose another method.
code-enrol-bad-address = That does not look like an e-mail address. Check it and try again.
code-enrol-same-address = Use an address other than the one you sign in with, so the code goes somewhere else.
code-enrol-too-many = Too many codes were sent. Wait 15 minutes, then try again.
code-enrol-could-not-send = We could not send the code just now. Try again in a minute.
code-enrol-too-slow = That took too long. Ask for a new code.
code-enrol-too-many-wrong = There were too many wrong codes. Wait 15 minutes, then ask for a new code.
code-enrol-wrong-code = That code is not right or has expired. Check it and try again.

## Passkeys (passkey_register.html, passkey_sign_in.html)

passkey-create-title = Create a passkey
passkey-create-why = A passkey lets you sign in with your fingerprint, face or screen lock instead of a code. It stays on your phone, computer or security key, and only works on this site.
field-passkey-name = Name for this passkey (optional)
field-passkey-name-example = For example: my laptop
passkey-create-needs-js = Creating a passkey needs JavaScript.
passkey-create-failed = Your device did not create a passkey. Try again, or choose another way.
passkey-not-created = The passkey could not be created. Try again, or choose another way to sign in.
passkey-device-will-ask = Your phone, computer or security key will ask for your fingerprint, face or PIN.
passkey-sign-in-needs-js = Passkeys need JavaScript. Sign in with your e-mail address and password instead.
passkey-sign-in-failed = Your device did not give a passkey. Try again, or sign in with your password.
passkey-use-password = Sign in with e-mail and password
passkey-not-usable = That passkey could not be used here. Try again, or sign in with your e-mail address and password.

## Set-up wizard (mfa_setup.html)

wizard-title = Set up two-step verification
wizard-why-organisation = { $organisation } asks everyone to confirm it's really them with a second step when they sign in, so that a password alone is not enough to get into your account. It takes a minute. Choose how you want to do it:
wizard-why = We ask everyone to confirm it's really them with a second step when they sign in, so that a password alone is not enough to get into your account. It takes a minute. Choose how you want to do it:
wizard-choice-passkey = A passkey: your fingerprint, face or screen lock
wizard-choice-totp = An authenticator app on your phone
wizard-choice-sms = A code by text message
wizard-choice-email = A code by e-mail to another address
wizard-choice-recovery = Recovery codes

## Confirming the password (confirm_password.html)

confirm-title = Confirm it's you
confirm-why = Before you add a way to sign in, type your password again. This keeps someone who finds your computer unlocked from adding their own.

## Forgotten password (password_reset.html)

reset-ask-intro = Type the e-mail address you sign in with. We will send you a code to set a new password.
reset-send-code = Send me a code
reset-code-sent = If there is an account for { $email }, we have sent a code to that address. It works for 15 minutes. The e-mail can take a minute to arrive; also look in your spam folder.
reset-new-code = Ask for a new code
reset-done-title = Your password is changed
reset-done-text = You can now sign in with your new password. For your safety we signed you out everywhere; you will be asked for your second factor as usual.
reset-bad-address = Type the e-mail address you sign in with, for example name@example.com.
reset-too-often = Codes were asked for too often. Wait 15 minutes, then try again.
reset-wrong-code = That code is not right. Check the e-mail and type the six digits again.
reset-code-first = Ask for a code first, then type it here.
reset-other-browser = Please continue in the browser where you asked for the code, or ask for a new code here.
reset-expired = The code is no longer valid: codes work for 15 minutes. Ask for a new code.
reset-too-many-wrong = There were too many wrong codes. Ask for a new code.
reset-used = This code was already used to set a new password. Sign in with your new password, or ask for a new code.

## Backup sign-in link (backup_link_sent.html)

backup-sent-title = Check your backup e-mail
backup-sent-text = We sent a sign-in link to { $address }. Open it in this browser within { $minutes } minutes; it works once. The e-mail can take a minute to arrive; also look in your spam folder.
backup-too-many-title = Too many links were sent
backup-too-many-text = Wait 15 minutes, then ask again, or use another way to confirm it's you.

## From a username to an e-mail address (username.html)

username-ask-intro = Type your old username. We will e-mail a link to the address we have for you; with it you choose a new password, and from then on you sign in with that e-mail address.
field-old-username = Old username
username-send-link = E-mail me a link
username-sent-text = If we know this username, we have sent an e-mail with a link to the address we have for you. The link works once, for 24 hours. Also look in your spam folder.
username-sent-no-mail = No e-mail, or no longer able to read that address? Contact the company that runs this service.
username-new-from-now-on = From now on you sign in with { $email } and this password.
username-empty = Type the username you used to sign in with.
username-too-often = Links were asked for too often. Wait 15 minutes, then try again.

## E-mails and text messages

mail-hello = Hello,
code-mail-subject = Your security code for { $service }
code-mail-intro = Your security code for { $service } is:
code-mail-validity = It works for { $minutes } minutes. Type it on the page where you are signing in.
code-mail-not-you = Did you not try to sign in just now? Then someone may know your password. Do not give this code to anyone, and change your password.
sms-code = { $code } is your { $service } security code. It works for { $minutes } minutes. Never share it.
reset-mail-subject = Your code to set a new password for { $service }
reset-mail-intro = Someone asked to set a new password for your { $service } account. If that was you, type this code on the page where you asked for it:
reset-mail-validity = It works for { $minutes } minutes, in the same browser.
reset-mail-not-you = Did you not ask for this? Then you can ignore this e-mail: your password stays as it is. Do not give this code to anyone, also not to someone who says they work for { $service }.
backup-mail-subject = Your sign-in link for { $service }
backup-mail-intro = You asked for a one-time link to sign in to { $service } without your second factor. Open it in the same browser where you asked for it:
backup-mail-validity = It works once, for { $minutes } minutes.
backup-mail-not-you = Did you not ask for this? Then someone knows your password: do not open the link, and change your password right away.
username-mail-subject = Sign in to { $service } with your e-mail address
username-mail-intro = You asked to move your { $service } sign-in from your old username to your e-mail address. Open this link to choose a new password:
username-mail-validity = It works once, for { $hours } hours. From then on you sign in with { $email }.
username-mail-not-you = Did you not ask for this? Then you can ignore this e-mail: nothing changes.
notice-mail-subject = Security notice from { $service }
notice-mail-hello = Hello { $name },
notice-mail-when = When: { $when } (UTC)
notice-mail-device = Device: { $device }
notice-mail-address = Address: { $ip }
notice-mail-was-you = Was this you? Then there is nothing to do.
notice-mail-not-you = Was this not you? Change your password right away on your account page, and contact the company that runs { $service }.
notice-password-changed = The password of your account was changed.
notice-password-reset = The password of your account was reset with a code sent to this address.
notice-new-device = Someone signed in to your account from a device we have not seen before.
notice-factor-added = A second step was added to your account.
notice-factor-removed = A second step was removed from your account.
notice-backup-link-sent = A one-time sign-in link was sent to your backup address { $address }.
notice-backup-link-used = You signed in with a one-time link sent to your backup address, in place of your second factor.
notice-recovery-code-used = { $left ->
    [one] A recovery code was used to sign in to your account. { $left } recovery code is left.
   *[other] A recovery code was used to sign in to your account. { $left } recovery codes are left.
}
notice-backup-address-set = A backup e-mail address was set: { $address }.
notice-password-set-by-link = A new password was set for your account with a link sent to this address. From now on you sign in with this e-mail address.
