import { CONSOLE_SESSION_HEADER, CONSOLE_SESSION_STORAGE_KEY } from '../shared/console-session.js';

/**
 * The consent page's script, served as `/consent.js` from the gateway's own origin (the pages'
 * policy allows no other script, and no inline one). It looks for the owner's console session in
 * this browser (`localStorage`, per exact origin: a page on another port cannot read it), and asks
 * the server whether it is live. If so it shows the consent form and sends the decision with the
 * session in its header: the server decides only when that session is live *and* the request comes
 * from this origin exactly (ConsoleSessions#ownerPresent). Otherwise it keeps the page waiting,
 * reloading it every two seconds like the page's no-script refresh, and looking again for a session
 * (the owner may sign in in another tab).
 *
 * Plain ES2017 for any browser a client may open; kept here as text so the CLI bundle carries it.
 */
export const CONSENT_SCRIPT = `'use strict';
(function () {
  var KEY = ${JSON.stringify(CONSOLE_SESSION_STORAGE_KEY)};
  var HEADER = ${JSON.stringify(CONSOLE_SESSION_HEADER)};
  var POLL_MS = 2000;
  var root = document.getElementById('consent');
  var form = document.getElementById('consent-form');
  var waiting = document.getElementById('waiting');
  var status = document.getElementById('consent-status');
  if (!root || !form || !waiting) return;
  var next = root.getAttribute('data-wait') || '';

  function secret() {
    try {
      return localStorage.getItem(KEY) || '';
    } catch (e) {
      return '';
    }
  }

  /** Whether this browser holds a live console session for this gateway. */
  function ownerHere() {
    var value = secret();
    if (!value) return Promise.resolve(false);
    var headers = {};
    headers[HEADER] = value;
    return fetch('/api/session', { headers: headers, cache: 'no-store' })
      .then(function (res) { return res.json(); })
      .then(function (body) { return Boolean(body && body.ok && body.value && body.value.signedIn); })
      .catch(function () { return false; });
  }

  function showForm() {
    waiting.hidden = true;
    form.hidden = false;
  }

  function say(message) {
    if (status) status.textContent = message;
  }

  /** Waits for the owner: reloads the waiting page (which answers with the redirect once decided). */
  function keepWaiting() {
    form.hidden = true;
    waiting.hidden = false;
    setTimeout(function () {
      ownerHere().then(function (owner) {
        if (owner) ownerFound();
        else if (next) location.replace(next);
        else keepWaiting();
      });
    }, POLL_MS);
  }

  function setBusy(busy) {
    var buttons = form.querySelectorAll('button');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = busy;
  }

  function send(decision) {
    var body = new URLSearchParams(new FormData(form));
    body.set('decision', decision);
    var headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    headers[HEADER] = secret();
    setBusy(true);
    say('');
    fetch('/consent', { method: 'POST', headers: headers, body: body, cache: 'no-store' })
      .then(function (res) { return res.json(); })
      .then(function (answer) {
        if (answer && answer.ok) {
          location.assign(answer.value.location);
          return;
        }
        var error = (answer && answer.error) || { code: 'refused', message: 'The gateway refused the decision.' };
        setBusy(false);
        say(error.message);
        // Decided in the approval list meanwhile: the waiting page carries that decision on.
        if (error.code === 'already_decided' && next) location.replace(next);
        // No longer signed in: wait like any requester.
        else if (error.code === 'owner_required') keepWaiting();
      })
      .catch(function () {
        setBusy(false);
        say('The gateway could not be reached; try again.');
      });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var submitter = event.submitter;
    send(submitter && submitter.value === 'approve' ? 'approve' : 'deny');
  });

  /** The owner is here: an app they approved before continues by itself, any other asks. */
  function ownerFound() {
    showForm();
    if (form.getAttribute('data-returning') === 'approve') send('approve');
  }

  ownerHere().then(function (owner) {
    if (owner) ownerFound();
    else keepWaiting();
  });
})();
`;
