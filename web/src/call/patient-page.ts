import { CallClient } from './call-client';
import { bindCallView, byId, explainMediaError, showStep, takeFragmentParams } from './page-common';

const token = takeFragmentParams().get('t');
let stream: MediaStream | undefined;

function watchMicLevel(media: MediaStream): void {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(media).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const meter = byId<HTMLMeterElement>('mic-level');
  const draw = () => {
    analyser.getFloatTimeDomainData(samples);
    meter.value = Math.min(1, Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length) * 4);
    if (!document.hidden) requestAnimationFrame(draw);
  };
  draw();
}

async function checkDevices(): Promise<void> {
  showStep('step-check');
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 1280, height: 720, facingMode: 'user' },
    });
  } catch (error) {
    const { title, text } = explainMediaError(error);
    byId('problem-title').textContent = title;
    byId('problem-text').textContent = text;
    showStep('step-problem');
    return;
  }
  byId<HTMLVideoElement>('preview').srcObject = stream;
  byId<HTMLVideoElement>('waiting-preview').srcObject = stream;
  watchMicLevel(stream);
  byId<HTMLButtonElement>('join').disabled = false;
}

function join(): void {
  if (!token || !stream) return;
  const client = new CallClient(token, stream);
  window.__call = client;
  bindCallView(client, stream, (state) => {
    stream?.getTracks().forEach((track) => track.stop());
    if (state === 'expired') return showStep('step-expired');
    if (state === 'removed')
      byId('ended-text').textContent = 'Your GP surgery ended the call. You can close this page.';
    showStep('step-ended');
  });
  client.on('state', (state) => {
    if (state === 'waiting') showStep('step-waiting');
    if (state === 'in-call' && byId('step-call').hidden) showStep('step-call');
  });
}

byId('join').addEventListener('click', join);
byId('retry').addEventListener('click', () => void checkDevices());
if (token) void checkDevices();
else showStep('step-expired');
