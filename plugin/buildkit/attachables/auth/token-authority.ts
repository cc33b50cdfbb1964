import crypto from 'node:crypto';

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows (RFC 8410). */
const ed25519Pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The client side of the Auth protocol's token authority (protocol doc §3.6):
 * an Ed25519 key per (host, salt) that the daemon binds the tokens we hand
 * it to, and later asks us to prove we hold (`VerifyTokenAuthority`).
 * The key derives from a random per-host seed that lives only as long as
 * this object, HMAC'd with the daemon's salt as the Go provider does, so a
 * daemon cannot link our keys across its restarts.
 */
export class TokenAuthority {
  private readonly seeds = new Map<string, Buffer>();

  /** The raw 32-byte public key for `host` under `salt`. */
  publicKey(host: string, salt: Uint8Array): Buffer {
    const spki = crypto.createPublicKey(this.privateKey(host, salt)).export({ format: 'der', type: 'spki' });
    return Buffer.from(spki.subarray(spki.length - 32));
  }

  /** NaCl `sign` output over `payload`: the 64-byte signature followed by the payload. */
  sign(host: string, salt: Uint8Array, payload: Uint8Array): Buffer {
    const signature = crypto.sign(null, payload, this.privateKey(host, salt));
    return Buffer.concat([signature, payload]);
  }

  private privateKey(host: string, salt: Uint8Array): crypto.KeyObject {
    let seed = this.seeds.get(host);
    if (!seed) {
      seed = crypto.randomBytes(32);
      this.seeds.set(host, seed);
    }
    const keySeed = crypto.createHmac('sha256', salt).update(seed).digest();
    return crypto.createPrivateKey({ key: Buffer.concat([ed25519Pkcs8Prefix, keySeed]), format: 'der', type: 'pkcs8' });
  }
}
