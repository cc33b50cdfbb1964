import { BuildkitError } from '../../errors';

/**
 * ssh-agent protocol facts (draft-miller-ssh-agent): every message is a
 * uint32 big-endian length, then that many bytes starting with a type byte.
 */
const SSH_AGENT_FAILURE = 5;
const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENTC_SIGN_REQUEST = 13;
/** OpenSSH's own bound on one agent message (AGENT_MAX_LEN). */
const maxMessageBytes = 256 * 1024;

const failureFrame = Buffer.from([0, 0, 0, 1, SSH_AGENT_FAILURE]);

/**
 * Keeps a forwarded agent read-only: a build step may list identities and
 * ask for signatures, nothing else. Adding, removing or locking keys and
 * extensions are answered SSH_AGENT_FAILURE here and never reach the agent,
 * like BuildKit's Go provider does for forwarded agents (the build must not be
 * able to change the developer's agent).
 *
 * Requests from the build are passed whole; the agent's replies stream
 * through untouched. Replies stay in request order: a refused request that
 * arrives while earlier ones still await the agent's answer gets its failure
 * only after those answers.
 */
export class ReadOnlyAgentGate {
  private request: Buffer = Buffer.alloc(0);
  /** Replies owed to the build, oldest first: from the agent, or a local failure. */
  private readonly owed: Array<'agent' | 'refused'> = [];
  private replyHeader: Buffer = Buffer.alloc(0);
  private replyBodyLeft = 0;

  /**
   * @param toAgent writes a request to the agent connection
   * @param toBuild writes reply bytes to the build's stream
   */
  constructor(
    private readonly toAgent: (bytes: Buffer) => void,
    private readonly toBuild: (bytes: Buffer) => void,
  ) {}

  /** True when every request passed to the agent has been answered. */
  get answered(): boolean {
    return this.owed.length === 0;
  }

  /** Bytes the build sent. Throws a BuildkitError on a malformed message. */
  fromBuild(chunk: Buffer): void {
    this.request = this.request.length === 0 ? chunk : Buffer.concat([this.request, chunk]);
    while (this.request.length >= 4) {
      const length = this.request.readUInt32BE(0);
      if (length === 0 || length > maxMessageBytes) {
        throw new BuildkitError('protocol', `ssh-agent request of ${length} bytes refused (must be 1..${maxMessageBytes})`);
      }
      if (this.request.length < 4 + length) return;
      const message = this.request.subarray(0, 4 + length);
      this.request = this.request.subarray(4 + length);
      const type = message[4];
      if (type === SSH_AGENTC_REQUEST_IDENTITIES || type === SSH_AGENTC_SIGN_REQUEST) {
        this.owed.push('agent');
        this.toAgent(message);
      } else if (this.owed.length === 0) {
        this.toBuild(failureFrame);
      } else {
        this.owed.push('refused');
      }
    }
  }

  /** Bytes the agent sent; passed on as they come, with owed failures slotted in at message ends. */
  fromAgent(chunk: Buffer): void {
    let start = 0;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.replyBodyLeft === 0 && this.replyHeader.length < 4) {
        const take = Math.min(4 - this.replyHeader.length, chunk.length - pos);
        this.replyHeader = Buffer.concat([this.replyHeader, chunk.subarray(pos, pos + take)]);
        pos += take;
        if (this.replyHeader.length < 4) break;
        this.replyBodyLeft = this.replyHeader.readUInt32BE(0);
      } else {
        const take = Math.min(this.replyBodyLeft, chunk.length - pos);
        this.replyBodyLeft -= take;
        pos += take;
      }
      if (this.replyHeader.length === 4 && this.replyBodyLeft === 0) {
        // One whole reply has passed: emit it, then any failures owed right behind it.
        this.replyHeader = Buffer.alloc(0);
        this.owed.shift();
        if (this.owed[0] === 'refused') {
          this.toBuild(chunk.subarray(start, pos));
          start = pos;
          while (this.owed[0] === 'refused') {
            this.owed.shift();
            this.toBuild(failureFrame);
          }
        }
      }
    }
    if (pos > start) this.toBuild(chunk.subarray(start, pos));
  }
}
