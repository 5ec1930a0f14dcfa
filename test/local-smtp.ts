import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerAddress } from 'smtp-server'

export interface ReceivedMail {
  envelopeTo: string[]
  headers: Map<string, string>
  /** The decoded text/plain and text/html parts. */
  text: string
  html: string
}

function decodeQuotedPrintable(body: string): string {
  const bytes = body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
  return Buffer.from(bytes, 'latin1').toString('utf8')
}

/** Just enough MIME for these mails: unfolded headers, and the parts of one multipart/alternative body. */
function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>()
  for (const line of block.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
  }
  return headers
}

function parseMessage(raw: string, envelopeTo: string[]): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n')
  const headers = parseHeaders(raw.slice(0, split))
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1]
  const parts: Record<string, string> = {}
  for (const part of raw.slice(split + 4).split(`--${boundary}`)) {
    const end = part.indexOf('\r\n\r\n')
    if (end < 0) continue
    const partHeaders = parseHeaders(part.slice(0, end).trim())
    const body = part.slice(end + 4)
    const type = (partHeaders.get('content-type') ?? '').split(';')[0] ?? ''
    const encoding = partHeaders.get('content-transfer-encoding')
    parts[type] =
      encoding === 'quoted-printable'
        ? decodeQuotedPrintable(body)
        : encoding === 'base64'
          ? Buffer.from(body, 'base64').toString('utf8')
          : body
  }
  return { envelopeTo, headers, text: parts['text/plain'] ?? '', html: parts['text/html'] ?? '' }
}

/** A real SMTP server: takes mail, refuses recipients by their local part (reject* 550, later* 451). */
export async function startSmtp(): Promise<{ server: SMTPServer; url: string; received: ReceivedMail[] }> {
  const received: ReceivedMail[] = []
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    // Plain SMTP: with STARTTLS on offer nodemailer would upgrade and refuse smtp-server's self-signed cert.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (auth, _session, callback) =>
      auth.username === 'alerts' && auth.password === 's3cret'
        ? callback(null, { user: auth.username })
        : callback(new Error('bad credentials')),
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const refuse = (code: number, text: string) =>
        callback(Object.assign(new Error(text), { responseCode: code }))
      if (address.address.startsWith('reject')) return refuse(550, '5.1.1 No such mailbox here')
      if (address.address.startsWith('later')) return refuse(451, '4.3.0 Mailbox busy, try later')
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((a) => a.address)
        received.push(parseMessage(Buffer.concat(chunks).toString('latin1'), to))
        callback()
      })
    },
  })
  const listening = server.listen(0, '127.0.0.1')
  await once(listening, 'listening')
  const { port } = listening.address() as AddressInfo
  return { server, url: `smtp://alerts:s3cret@127.0.0.1:${port}`, received }
}
