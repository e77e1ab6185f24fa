// Phone calls in the desk: where the person's calls ring (the softphone's token, renewed before
// it ends, or their own phone), and the controls of the call in the conversation view. Uses
// app.js's `$`, `api`, `notice` and `state`. Twilio's Voice SDK is not part of this page: with
// the token, a page that loads it registers the softphone (`window.Twilio.Device`).
/* global $, api, notice, state */
'use strict';

const voice = { tokenTimer: 0, device: null, calls: new Map() }; // conversationId → { held, agentMuted, ended }

async function setUpSoftphone() {
  clearTimeout(voice.tokenTimer);
  const shown = $('softphone');
  shown.hidden = false;
  try {
    const answer = await api('/api/voice/token', {});
    if (answer.answerOn === 'phone') {
      shown.textContent = 'Calls ring on your phone';
      return;
    }
    // Renewed a minute before it ends.
    voice.tokenTimer = setTimeout(setUpSoftphone, Math.max(30000, answer.expiresAt - Date.now() - 60000));
    if (window.Twilio && window.Twilio.Device) {
      if (voice.device) voice.device.updateToken(answer.token);
      else {
        voice.device = new window.Twilio.Device(answer.token);
        voice.device.on('incoming', (call) => call.accept());
        voice.device.register();
      }
      shown.textContent = `Softphone ready (${answer.identity})`;
    } else {
      shown.textContent = 'Softphone token ready; the Voice SDK is not loaded in this page';
    }
    shown.dataset.identity = answer.identity;
  } catch (err) {
    shown.textContent = `No softphone: ${err.message}`;
  }
}
window.setUpSoftphone = setUpSoftphone;

function callOf(id) {
  if (!voice.calls.has(id)) voice.calls.set(id, { held: false, agentMuted: false, ended: false });
  return voice.calls.get(id);
}

function renderCallControls(c) {
  const panel = $('call-controls');
  panel.hidden = !c || c.offer.channel !== 'voice';
  if (panel.hidden) return;
  const call = callOf(c.offer.conversationId);
  $('call-mute').textContent = call.agentMuted ? 'Unmute' : 'Mute';
  $('call-mute').dataset.action = call.agentMuted ? 'unmute' : 'mute';
  $('call-hold').textContent = call.held ? 'Resume' : 'Hold';
  $('call-hold').dataset.action = call.held ? 'resume' : 'hold';
  for (const b of panel.querySelectorAll('button[data-action]')) b.disabled = call.ended;
  $('call-keypad').hidden = call.ended;
  $('call-consult').hidden = call.ended;
  $('call-wrap-up').hidden = !call.ended;
  const said = call.ended
    ? 'Call ended — wrap up'
    : [call.held ? 'Caller on hold' : 'On the call', call.agentMuted ? 'you are muted' : ''].filter(Boolean).join(' · ');
  $('call-state').textContent = said;
}
window.renderCallControls = renderCallControls;

async function control(action, extra) {
  const id = state.current;
  if (!id) return;
  const call = callOf(id);
  try {
    const answer = await api('/api/call/control', { conversationId: id, action, ...extra });
    call.held = answer.held;
    call.agentMuted = answer.agentMuted;
    if (action === 'hang-up') call.ended = true;
    if (action === 'wrap-up') notice('Wrap-up saved.');
    else notice(`Call: ${action} done.`);
  } catch (err) {
    // The caller hung up first: what is left is the wrap-up.
    if (/has ended/.test(err.message)) call.ended = true;
    notice(err.message);
  }
  renderCallControls(state.conversations.get(id));
}

for (const id of ['call-mute', 'call-hold', 'call-hang-up']) $(id).addEventListener('click', (e) => control(e.currentTarget.dataset.action));
$('call-keypad').addEventListener('submit', (e) => {
  e.preventDefault();
  control('keypad', { digits: $('call-digits').value.trim() });
  $('call-digits').value = '';
});
$('call-wrap-up').addEventListener('submit', (e) => {
  e.preventDefault();
  control('wrap-up', { note: $('call-wrap-up-note').value.trim() });
});
// Warm transfer: consult an expert while the caller holds; Resume brings the caller in, and the
// Transfer form hands the call over (the expert's line, already in the call, takes it).
$('call-consult').addEventListener('submit', (e) => {
  e.preventDefault();
  control('consult', { toAgentId: $('call-consult-to').value.trim() });
});
