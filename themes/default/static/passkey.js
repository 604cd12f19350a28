// Runs a WebAuthn ceremony for the page's form: reads the options the server embedded, asks the
// browser for a credential, puts the answer (WebAuthn JSON, base64url) in the form and submits it.
(function () {
  "use strict";
  const button = document.getElementById("passkey-start");
  const optionsElement = document.getElementById("passkey-options");
  if (!button || !optionsElement || !window.PublicKeyCredential) {
    if (button) { button.disabled = true; }
    return;
  }
  const form = button.closest("form");

  const fromB64url = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
  };
  const toB64url = (buffer) => {
    let binary = "";
    new Uint8Array(buffer).forEach((b) => { binary += String.fromCharCode(b); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const creationOptions = (o) => PublicKeyCredential.parseCreationOptionsFromJSON
    ? PublicKeyCredential.parseCreationOptionsFromJSON(o)
    : Object.assign({}, o, {
        challenge: fromB64url(o.challenge),
        user: Object.assign({}, o.user, { id: fromB64url(o.user.id) }),
        excludeCredentials: (o.excludeCredentials || []).map((c) => Object.assign({}, c, { id: fromB64url(c.id) })),
      });
  const requestOptions = (o) => PublicKeyCredential.parseRequestOptionsFromJSON
    ? PublicKeyCredential.parseRequestOptionsFromJSON(o)
    : Object.assign({}, o, {
        challenge: fromB64url(o.challenge),
        allowCredentials: (o.allowCredentials || []).map((c) => Object.assign({}, c, { id: fromB64url(c.id) })),
      });
  const toJSON = (credential) => {
    if (typeof credential.toJSON === "function") { return credential.toJSON(); }
    const r = credential.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) { response.attestationObject = toB64url(r.attestationObject); }
    if (r.authenticatorData) { response.authenticatorData = toB64url(r.authenticatorData); }
    if (r.signature) { response.signature = toB64url(r.signature); }
    if (r.userHandle) { response.userHandle = toB64url(r.userHandle); }
    if (typeof r.getTransports === "function") { response.transports = r.getTransports(); }
    return {
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type, response,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  };

  button.addEventListener("click", async () => {
    const error = document.getElementById("passkey-error");
    if (error) { error.hidden = true; }
    button.disabled = true;
    try {
      const options = JSON.parse(optionsElement.textContent);
      const credential = button.dataset.ceremony === "create"
        ? await navigator.credentials.create({ publicKey: creationOptions(options.publicKey) })
        : await navigator.credentials.get({ publicKey: requestOptions(options.publicKey), mediation: options.mediation });
      form.elements.credential.value = JSON.stringify(toJSON(credential));
      form.submit();
    } catch (e) {
      if (error) { error.hidden = false; }
      button.disabled = false;
    }
  });
}());
