# Nederlands. Dezelfde berichten als en.ftl, in de u-vorm.

language-name = Nederlands
language-switcher = Taal

## Shared across pages

continue-to = om verder te gaan naar { $app }
continue-to-account = uw account
field-email = E-mailadres
field-password = Wachtwoord
field-code = Code
field-code-email = Code uit de e-mail
field-code-sms = Code uit het sms-bericht
field-code-app = Code uit de app
field-recovery-code = Herstelcode
field-new-password = Nieuw wachtwoord
field-new-password-again = Nieuw wachtwoord nogmaals
field-current-password = Huidig wachtwoord
button-continue = Doorgaan
button-cancel = Annuleren
button-confirm = Bevestigen
back-to-sign-in = Terug naar inloggen
check-your-email = Kijk in uw e-mail
code-sent-to = We hebben een code gestuurd naar { $destination }.
code-mail-can-take-a-minute = Het kan een minuut duren voordat die aankomt; kijk ook in uw map met ongewenste e-mail.

## Sign-in page (login.html)

login-title = Inloggen
login-button = Inloggen
login-username-typed = U logt nu in met uw e-mailadres in plaats van een gebruikersnaam. Typ hieronder uw e-mailadres.
login-used-username = Ik logde vroeger in met een gebruikersnaam
login-forgot = Wachtwoord vergeten?
login-with-passkey = Inloggen met een passkey
login-wrong-credentials = Het e-mailadres of wachtwoord klopt niet. Controleer beide en probeer het opnieuw.
login-throttled = Er is te vaak geprobeerd in te loggen. Wacht 15 minuten en probeer het dan opnieuw.
login-busy-title = Het is nu erg druk
login-busy = Het is nu erg druk met inloggen. Probeer het over een paar seconden opnieuw.

## Error pages (error.html)

error-title = Er ging iets mis
error-detail = Details voor de ontwikkelaars van de app:
error-what-next = Ga terug naar de toepassing waar u vandaan kwam en probeer het opnieuw. Blijft dit gebeuren, neem dan contact op met het bedrijf achter die toepassing.
error-expired-title = Deze inlogpagina is verlopen
error-expired-text = Voor uw veiligheid werkt een inlogpagina maar korte tijd, en alleen in de browser waarin hij werd geopend.
error-unavailable-title = Gatehouse is even niet bereikbaar
error-unavailable-text = Probeer het over een paar seconden opnieuw. Er is niets veranderd.
error-forbidden-title = Dit formulier kon niet worden aangenomen
error-forbidden-text = Het formulier kwam van een pagina die we niet herkennen, of het stond te lang open.
error-internal-title = Er ging bij ons iets mis
error-internal-text = Uw verzoek kon nu niet worden afgerond. Er is niets veranderd.
error-bad-sign-in-link = Deze inloglink werkt niet
error-bad-sign-out-link = Deze uitloglink werkt niet
error-link-from-app = De toepassing stuurde u hierheen met een link die niet geldig is.
error-link-used-title = Deze link werkt niet meer
error-link-used-text = Een link om uw wachtwoord in te stellen werkt één keer, 24 uur lang. Ga naar de inlogpagina en kies "Ik logde vroeger in met een gebruikersnaam" om een nieuwe te krijgen.
error-method-not-offered-title = Deze manier van inloggen wordt hier niet aangeboden
error-method-not-offered-text = Ga terug naar uw accountpagina en kies een van de manieren die daar staan.
error-backup-link-title = Deze inloglink werkt hier niet
error-backup-link-text = Een inloglink werkt één keer, 15 minuten lang, en alleen in de browser waarin u hem hebt aangevraagd. Ga daar terug naar de inlogpagina, of begin opnieuw met inloggen.
error-no-such-page-title = Deze pagina bestaat niet
error-no-such-page-text = Ga terug naar uw accountpagina.
error-no-passkeys-title = Passkeys zijn hier niet beschikbaar
error-no-passkeys-text = Deze dienst is niet bereikbaar onder een hostnaam, dus browsers gebruiken er geen passkeys mee.
error-page-failed = Gatehouse kon deze pagina niet tonen.

## Home page (home.html)

home-title = Welkom
home-lead = De inlogdienst op
home-try-demo = Probeer het: log in bij de demo-app
home-demo-account = Demo-account (e-mailadres · wachtwoord):
home-discovery = Toepassingen vinden deze dienst op

## Consent (consent.html)

consent-title = Toegang geven
consent-heading = Toegang geven?
consent-lead = { $app } wil graag:
consent-allow = Toestaan
consent-deny = Niet toestaan
scope-openid = Weten wie u bent
scope-profile = Uw naam zien
scope-email = Uw e-mailadres zien
scope-offline-access = Verbonden blijven als u de app niet gebruikt

## Signing out (logout.html, logged_out.html)

logout-title = Uitloggen
logout-heading = Uitloggen?
logout-asked-by = { $app } vraagt om u uit te loggen.
logout-about-to = U staat op het punt uit te loggen.
logout-button = Uitloggen
logged-out-title = Uitgelogd
logged-out-heading = U bent uitgelogd
logged-out-close = U kunt dit venster sluiten.

## Demo app (demo.html)

demo-title = Demo-app
demo-try-again = Opnieuw proberen
demo-signed-in-as = U bent ingelogd als { $name }. Dit is wat de app heeft ontvangen.
demo-id-token = Gegevens in het ID-token (gecontroleerd)
demo-userinfo = Antwoord van UserInfo
demo-failed = De demo-app kon het inloggen niet afronden.

## Second step (mfa.html)

mfa-title = Tweestapsverificatie
mfa-passkey-intro = Gebruik uw passkey. Uw telefoon, computer of beveiligingssleutel vraagt om uw vingerafdruk, gezicht of pincode.
mfa-passkey-needs-js = Passkeys hebben JavaScript nodig. Zet het aan, of kies hieronder een andere manier.
mfa-totp-intro = Open uw authenticator-app en typ de code van 6 cijfers die deze toont voor { $issuer }.
mfa-recovery-intro = Typ een van de herstelcodes die u hebt bewaard toen u tweestapsverificatie instelde. Elke code werkt één keer.
mfa-remember = { $days ->
    [one] Vraag dit { $days } dag niet opnieuw op dit apparaat
   *[other] Vraag dit { $days } dagen niet opnieuw op dit apparaat
}
mfa-send-new-code = Stuur een nieuwe code
mfa-other-methods = Een andere manier gebruiken
mfa-backup-link = Ik kan mijn tweede stap niet gebruiken: mail mij een inloglink
mfa-use-passkey = Uw passkey gebruiken
mfa-use-totp = Uw authenticator-app gebruiken
mfa-use-sms = Een code per sms sturen
mfa-use-email = Een code naar uw andere e-mailadres sturen
mfa-use-recovery-code = Een herstelcode gebruiken
mfa-wrong-code = Die code klopt niet. Controleer hem en probeer het opnieuw.
mfa-too-many-wrong = Er zijn te veel verkeerde codes ingevuld. Wacht 15 minuten en probeer het dan opnieuw, of kies een andere manier.
mfa-locked = Uw tweede stap is geblokkeerd na te veel verkeerde codes. Gebruik een van uw herstelcodes, of neem contact op met het bedrijf achter deze dienst om hem te deblokkeren.
mfa-wait-before-new-code = Wacht een halve minuut voordat u een nieuwe code aanvraagt.
mfa-too-many-codes = Er zijn te veel codes verstuurd. Wacht 15 minuten, of kies een andere manier.
mfa-could-not-send = We konden de code nu niet versturen. Probeer het over een minuut opnieuw, of kies een andere manier.
passkey-use = Mijn passkey gebruiken

## After a recovery code (recovery_used.html)

recovery-used-title = Herstelcode gebruikt
recovery-used-heading = U bent ingelogd
recovery-used-gone = U hebt een herstelcode gebruikt. Die code werkt niet meer.
recovery-codes-left = Herstelcodes over:
recovery-used-make-new = Maak binnenkort een nieuwe set op uw accountpagina.

## Account page (account.html)

account-title = Uw account
account-signed-in-as = Ingelogd als { $email }
account-factor-added = toegevoegd op { $date }
account-factor-asked-first = wordt als eerste gevraagd
account-factor-make-first = Deze als eerste vragen
field-factor-name = Naam
account-factor-rename = Naam wijzigen
field-password-to-confirm = Uw wachtwoord, ter bevestiging
account-factor-remove = Verwijderen
field-password-for-recovery-codes = Uw wachtwoord, om een nieuwe set herstelcodes te maken
account-make-recovery-codes = Nieuwe herstelcodes maken
account-mfa-off = Tweestapsverificatie staat uit. Zet het aan, zodat een gestolen wachtwoord alleen niet genoeg is om in uw account te komen.
account-devices = Onthouden apparaten
account-devices-hint = Deze browsers vragen een tijdlang niet om een tweede stap.
account-device-used = laatst gebruikt op { $last_used }, tot { $until }
account-device-forget = Dit apparaat vergeten
account-unknown-browser = Onbekende browser
account-sign-ins = Recente inlogpogingen
account-unknown-device = Onbekend apparaat
account-change-password = Wachtwoord wijzigen
account-add-method = Een manier toevoegen om te bevestigen dat u het bent
account-add-passkey = Een passkey maken (vingerafdruk, gezicht of schermvergrendeling)
account-add-totp = Een authenticator-app toevoegen
account-add-sms = Codes per sms ontvangen
account-add-email = Codes per e-mail ontvangen
backup-address-title = Reserve-e-mailadres
account-backup-address-set = Als u uw tweede stap niet kunt gebruiken, kunnen we een eenmalige inloglink sturen naar { $address }.
account-backup-address-change = Een ander adres gebruiken
account-backup-address-why = Als u uw tweede stap ooit niet kunt gebruiken, kan een reserveadres een eenmalige inloglink ontvangen.
account-backup-address-add = Een reserve-e-mailadres toevoegen
method-totp = Authenticator-app
method-email = Codes per e-mail
method-sms = Codes per sms
method-passkey = Passkey
method-recovery-code = Herstelcode
method-other = Tweede stap
method-sms-to = Sms naar { $number }
method-email-to = E-mail naar { $address }
account-notice-totp-added = Uw authenticator-app is ingesteld. Vanaf nu wordt bij het inloggen om een code gevraagd.
account-notice-saved = Opgeslagen.
account-notice-factor-removed = De tweede stap is verwijderd.
account-notice-device-forgotten = Op dat apparaat wordt weer om een tweede stap gevraagd.
account-notice-password-changed = Uw wachtwoord is gewijzigd. U bent overal elders uitgelogd.
account-notice-backup-address-set = Uw reserve-e-mailadres is opgeslagen.
account-wrong-password = Dat wachtwoord klopt niet. Er is niets veranderd.
account-last-factor = U hebt minstens één tweede stap nodig. Voeg eerst een andere toe voordat u deze verwijdert.
account-factor-not-found = Die tweede stap is niet gevonden. Er is niets veranderd.
account-recovery-needs-factor = Stel eerst een tweede stap in; herstelcodes zijn een vervanging daarvoor.
account-not-saved = Dat kon niet worden opgeslagen. Er is niets veranderd.

## Password rules and changes

password-not-changed = Uw wachtwoord is niet gewijzigd:
password-repeat-differs = De twee nieuwe wachtwoorden zijn niet gelijk. Typ ze opnieuw.
password-same-as-current = Het nieuwe wachtwoord is hetzelfde als het huidige. Kies een ander.
new-password-title = Kies een nieuw wachtwoord
new-password-tip = Een paar woorden die u makkelijk onthoudt en die anderen moeilijk raden, werken goed.
new-password-save = Nieuw wachtwoord opslaan
password-rules-composition = Minstens { $min } tekens, met een kleine letter, een hoofdletter, een cijfer en een speciaal teken.
password-rules-nist = Minstens { $min } tekens. Een paar woorden die u onthoudt, vormen een goed wachtwoord.
password-too-short = Gebruik minstens { $min } tekens.
password-too-long = Gebruik hoogstens { $max } tekens.
password-no-lower-case = Voeg een kleine letter toe (a–z).
password-no-upper-case = Voeg een hoofdletter toe (A–Z).
password-no-digit = Voeg een cijfer toe (0–9).
password-no-special-character = Voeg een speciaal teken toe, zoals ! # % of een spatie.
password-common = Dit wachtwoord komt te vaak voor: het staat op lijsten van gelekte wachtwoorden. Kies een ander.
password-contains-email = Laat uw e-mailadres, en het deel vóór de @, uit het wachtwoord.

## Authenticator app set-up (totp_enrol.html)

totp-title = Een authenticator-app toevoegen
totp-step-open = Open een authenticator-app op uw telefoon en kies ervoor een account toe te voegen.
totp-step-scan = Scan deze QR-code met de app.
totp-qr-alt = QR-code voor { $issuer }, account { $email }
totp-step-key = Lukt scannen niet? Typ dan deze sleutel in de app, met { $issuer } als naam:
totp-step-code = Typ de code van 6 cijfers die de app nu toont.
field-app-name = Naam voor deze app (niet verplicht)
field-app-name-example = Bijvoorbeeld: mijn telefoon
totp-turn-on = Aanzetten
totp-too-slow = Dat duurde te lang. Scan deze nieuwe code en probeer het opnieuw.
totp-wrong-code = Die code klopt niet. Controleer de tijd op uw telefoon en typ de code die de app nu toont.

## Recovery codes (recovery_codes.html)

recovery-codes-title = Uw herstelcodes
recovery-codes-heading = Bewaar uw herstelcodes
recovery-codes-why = Raakt u uw telefoon kwijt, dan kunt u met elk van deze codes één keer inloggen in plaats van met een code uit de app. Print ze of bewaar ze op een veilige plek.
recovery-codes-only-now = Ze worden alleen nu getoond.
recovery-codes-old-gone = Eventuele oudere herstelcodes werken niet meer.
recovery-codes-saved = Ik heb ze bewaard

## Codes by text message or e-mail (code_enrol.html)

code-enrol-type-it = Typ hem hier ter bevestiging.
code-enrol-sms-why = Als u inlogt, sturen we een code per sms naar dit mobiele nummer.
code-enrol-known-number = We hebben dit mobiele nummer van u: { $number }. Is het nog steeds van u, stuur er dan een code naartoe. Zo niet, typ dan uw huidige nummer.
field-mobile-number = Mobiel nummer, met landcode
code-enrol-send = Stuur een code
code-enrol-backup-why = Als u uw tweede stap ooit niet kunt gebruiken, kunnen we een eenmalige inloglink naar dit adres sturen. Gebruik een ander adres dan { $login_email }, een adres dat alleen u kunt lezen.
code-enrol-email-why = Als u inlogt, sturen we een code naar dit adres. Gebruik een ander adres dan { $login_email }, zodat iemand die uw wachtwoord kent niet ook de code kan lezen.
field-second-email = Tweede e-mailadres
code-enrol-bad-number = Dat is geen telefoonnummer dat we kunnen gebruiken. Typ het met de landcode, bijvoorbeeld +31 6 1234 5678.
code-enrol-not-mobile = Dat is geen mobiel nummer. Sms-berichten komen alleen aan op mobiele telefoons.
code-enrol-country = We kunnen geen sms sturen naar nummers in dat land. Kies een andere manier.
code-enrol-bad-address = Dat lijkt geen e-mailadres. Controleer het en probeer het opnieuw.
code-enrol-same-address = Gebruik een ander adres dan het adres waarmee u inlogt, zodat de code ergens anders aankomt.
code-enrol-too-many = Er zijn te veel codes verstuurd. Wacht 15 minuten en probeer het dan opnieuw.
code-enrol-could-not-send = We konden de code nu niet versturen. Probeer het over een minuut opnieuw.
code-enrol-too-slow = Dat duurde te lang. Vraag een nieuwe code aan.
code-enrol-too-many-wrong = Er zijn te veel verkeerde codes ingevuld. Wacht 15 minuten en vraag dan een nieuwe code aan.
code-enrol-wrong-code = Die code klopt niet of is verlopen. Controleer hem en probeer het opnieuw.

## Passkeys (passkey_register.html, passkey_sign_in.html)

passkey-create-title = Een passkey maken
passkey-create-why = Met een passkey logt u in met uw vingerafdruk, gezicht of schermvergrendeling in plaats van een code. Hij blijft op uw telefoon, computer of beveiligingssleutel, en werkt alleen op deze site.
field-passkey-name = Naam voor deze passkey (niet verplicht)
field-passkey-name-example = Bijvoorbeeld: mijn laptop
passkey-create-needs-js = Voor het maken van een passkey is JavaScript nodig.
passkey-create-failed = Uw apparaat heeft geen passkey gemaakt. Probeer het opnieuw, of kies een andere manier.
passkey-not-created = De passkey kon niet worden gemaakt. Probeer het opnieuw, of kies een andere manier om in te loggen.
passkey-device-will-ask = Uw telefoon, computer of beveiligingssleutel vraagt om uw vingerafdruk, gezicht of pincode.
passkey-sign-in-needs-js = Passkeys hebben JavaScript nodig. Log in plaats daarvan in met uw e-mailadres en wachtwoord.
passkey-sign-in-failed = Uw apparaat gaf geen passkey. Probeer het opnieuw, of log in met uw wachtwoord.
passkey-use-password = Inloggen met e-mailadres en wachtwoord
passkey-not-usable = Die passkey kon hier niet worden gebruikt. Probeer het opnieuw, of log in met uw e-mailadres en wachtwoord.

## Set-up wizard (mfa_setup.html)

wizard-title = Tweestapsverificatie instellen
wizard-why-organisation = { $organisation } vraagt iedereen om bij het inloggen met een tweede stap te bevestigen dat zij het echt zijn, zodat een wachtwoord alleen niet genoeg is om in uw account te komen. Het kost een minuut. Kies hoe u het wilt doen:
wizard-why = We vragen iedereen om bij het inloggen met een tweede stap te bevestigen dat zij het echt zijn, zodat een wachtwoord alleen niet genoeg is om in uw account te komen. Het kost een minuut. Kies hoe u het wilt doen:
wizard-choice-passkey = Een passkey: uw vingerafdruk, gezicht of schermvergrendeling
wizard-choice-totp = Een authenticator-app op uw telefoon
wizard-choice-sms = Een code per sms
wizard-choice-email = Een code per e-mail naar een ander adres
wizard-choice-recovery = Herstelcodes

## Confirming the password (confirm_password.html)

confirm-title = Bevestig dat u het bent
confirm-why = Typ uw wachtwoord nogmaals voordat u een manier van inloggen toevoegt. Zo kan iemand die uw computer ontgrendeld aantreft, niet zijn eigen manier toevoegen.

## Forgotten password (password_reset.html)

reset-ask-intro = Typ het e-mailadres waarmee u inlogt. We sturen u een code om een nieuw wachtwoord in te stellen.
reset-send-code = Stuur mij een code
reset-code-sent = Als er een account is voor { $email }, hebben we een code naar dat adres gestuurd. Die werkt 15 minuten. Het kan een minuut duren voordat de e-mail aankomt; kijk ook in uw map met ongewenste e-mail.
reset-new-code = Een nieuwe code aanvragen
reset-done-title = Uw wachtwoord is gewijzigd
reset-done-text = U kunt nu inloggen met uw nieuwe wachtwoord. Voor uw veiligheid hebben we u overal uitgelogd; zoals gewoonlijk wordt om uw tweede stap gevraagd.
reset-bad-address = Typ het e-mailadres waarmee u inlogt, bijvoorbeeld naam@voorbeeld.nl.
reset-too-often = Er zijn te vaak codes aangevraagd. Wacht 15 minuten en probeer het dan opnieuw.
reset-wrong-code = Die code klopt niet. Kijk in de e-mail en typ de zes cijfers opnieuw.
reset-code-first = Vraag eerst een code aan en typ die dan hier.
reset-other-browser = Ga verder in de browser waarin u de code hebt aangevraagd, of vraag hier een nieuwe code aan.
reset-expired = De code is niet meer geldig: codes werken 15 minuten. Vraag een nieuwe code aan.
reset-too-many-wrong = Er zijn te veel verkeerde codes ingevuld. Vraag een nieuwe code aan.
reset-used = Met deze code is al een nieuw wachtwoord ingesteld. Log in met uw nieuwe wachtwoord, of vraag een nieuwe code aan.

## Backup sign-in link (backup_link_sent.html)

backup-sent-title = Kijk in uw reserve-e-mail
backup-sent-text = We hebben een inloglink gestuurd naar { $address }. Open hem binnen { $minutes } minuten in deze browser; hij werkt één keer. Het kan een minuut duren voordat de e-mail aankomt; kijk ook in uw map met ongewenste e-mail.
backup-too-many-title = Er zijn te veel links verstuurd
backup-too-many-text = Wacht 15 minuten en vraag het dan opnieuw, of bevestig op een andere manier dat u het bent.

## From a username to an e-mail address (username.html)

username-ask-intro = Typ uw oude gebruikersnaam. We mailen een link naar het adres dat we van u hebben; daarmee kiest u een nieuw wachtwoord, en vanaf dan logt u in met dat e-mailadres.
field-old-username = Oude gebruikersnaam
username-send-link = Mail mij een link
username-sent-text = Als we deze gebruikersnaam kennen, hebben we een e-mail met een link gestuurd naar het adres dat we van u hebben. De link werkt één keer, 24 uur lang. Kijk ook in uw map met ongewenste e-mail.
username-sent-no-mail = Geen e-mail ontvangen, of kunt u dat adres niet meer lezen? Neem contact op met het bedrijf achter deze dienst.
username-new-from-now-on = Vanaf nu logt u in met { $email } en dit wachtwoord.
username-empty = Typ de gebruikersnaam waarmee u vroeger inlogde.
username-too-often = Er zijn te vaak links aangevraagd. Wacht 15 minuten en probeer het dan opnieuw.

## E-mails and text messages

mail-hello = Hallo,
code-mail-subject = Uw beveiligingscode voor { $service }
code-mail-intro = Uw beveiligingscode voor { $service } is:
code-mail-validity = Hij werkt { $minutes } minuten. Typ hem op de pagina waar u aan het inloggen bent.
code-mail-not-you = Probeerde u net niet in te loggen? Dan kent iemand misschien uw wachtwoord. Geef deze code aan niemand, en wijzig uw wachtwoord.
sms-code = { $code } is uw beveiligingscode voor { $service }. Hij werkt { $minutes } minuten. Deel hem nooit.
reset-mail-subject = Uw code om een nieuw wachtwoord in te stellen voor { $service }
reset-mail-intro = Iemand heeft gevraagd een nieuw wachtwoord in te stellen voor uw account bij { $service }. Was u dat, typ dan deze code op de pagina waar u het vroeg:
reset-mail-validity = Hij werkt { $minutes } minuten, in dezelfde browser.
reset-mail-not-you = Hebt u hier niet om gevraagd? Dan kunt u deze e-mail negeren: uw wachtwoord blijft zoals het is. Geef deze code aan niemand, ook niet aan iemand die zegt dat hij voor { $service } werkt.
backup-mail-subject = Uw inloglink voor { $service }
backup-mail-intro = U hebt een eenmalige link aangevraagd om zonder uw tweede stap in te loggen bij { $service }. Open hem in dezelfde browser waarin u hem aanvroeg:
backup-mail-validity = Hij werkt één keer, { $minutes } minuten lang.
backup-mail-not-you = Hebt u hier niet om gevraagd? Dan kent iemand uw wachtwoord: open de link niet, en wijzig meteen uw wachtwoord.
username-mail-subject = Log in bij { $service } met uw e-mailadres
username-mail-intro = U hebt gevraagd om bij { $service } voortaan in te loggen met uw e-mailadres in plaats van uw oude gebruikersnaam. Open deze link om een nieuw wachtwoord te kiezen:
username-mail-validity = Hij werkt één keer, { $hours } uur lang. Daarna logt u in met { $email }.
username-mail-not-you = Hebt u hier niet om gevraagd? Dan kunt u deze e-mail negeren: er verandert niets.
notice-mail-subject = Beveiligingsmelding van { $service }
notice-mail-hello = Hallo { $name },
notice-mail-when = Wanneer: { $when } (UTC)
notice-mail-device = Apparaat: { $device }
notice-mail-address = Adres: { $ip }
notice-mail-was-you = Was u dit? Dan hoeft u niets te doen.
notice-mail-not-you = Was u dit niet? Wijzig meteen uw wachtwoord op uw accountpagina, en neem contact op met het bedrijf achter { $service }.
notice-password-changed = Het wachtwoord van uw account is gewijzigd.
notice-password-reset = Het wachtwoord van uw account is opnieuw ingesteld met een code die naar dit adres is gestuurd.
notice-new-device = Iemand is ingelogd op uw account vanaf een apparaat dat we nog niet eerder zagen.
notice-factor-added = Er is een tweede stap aan uw account toegevoegd.
notice-factor-removed = Er is een tweede stap van uw account verwijderd.
notice-backup-link-sent = Er is een eenmalige inloglink gestuurd naar uw reserveadres { $address }.
notice-backup-link-used = U bent ingelogd met een eenmalige link die naar uw reserveadres was gestuurd, in plaats van met uw tweede stap.
notice-recovery-code-used = { $left ->
    [one] Er is een herstelcode gebruikt om in te loggen op uw account. Er is nog { $left } herstelcode over.
   *[other] Er is een herstelcode gebruikt om in te loggen op uw account. Er zijn nog { $left } herstelcodes over.
}
notice-backup-address-set = Er is een reserve-e-mailadres ingesteld: { $address }.
notice-password-set-by-link = Er is een nieuw wachtwoord ingesteld voor uw account met een link die naar dit adres is gestuurd. Vanaf nu logt u in met dit e-mailadres.
