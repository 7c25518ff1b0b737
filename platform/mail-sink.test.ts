import net from 'node:net';
import nodemailer from 'nodemailer';
import { MailSink } from './mail-sink';

/** Opens an SMTP conversation and resets the socket in the middle of it, as a killed sender does. */
async function resetMidConversation(port: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.write('EHLO killed.example\r\nMAIL FROM:<a@killed.example>\r\n');
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.resetAndDestroy();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

it('keeps receiving after senders reset their connections mid-conversation', async () => {
  const sink = new MailSink();
  await sink.start();
  try {
    const port = Number(new URL(sink.url).port);
    for (let i = 0; i < 3; i += 1) await resetMidConversation(port);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'a@example.org', to: 'b@example.org', subject: 'still here', text: 'hello' });
    expect(sink.messages().map((m) => m.subject)).toEqual(['still here']);
  } finally {
    await sink.stop();
  }
});
