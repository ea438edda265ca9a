/**
 * Test certificates made with the `openssl` command: a CA, and a server
 * certificate it signed for IP 127.0.0.1 and DNS localhost. (Deno's TLS
 * stack refuses a self-signed CA certificate used as the server's own, so a
 * test needs both.) Also an unrelated key, for a key that does not match the
 * certificate.
 *
 * @example
 * ```ts
 * import { makeCertificates } from "./tls_helpers.ts";
 * const dir = await Deno.makeTempDir();
 * const certs = await makeCertificates(dir);
 * const listener = Deno.listenTls({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   cert: await Deno.readTextFile(certs.cert),
 *   key: await Deno.readTextFile(certs.key),
 * });
 * const conn = await Deno.connectTls({ hostname: "127.0.0.1", port: listener.addr.port, caCerts: [certs.caPem] });
 * ```
 * @module
 */

/** Paths of the files {@linkcode makeCertificates} wrote, and the CA's PEM text. */
export interface TestCertificates {
  /** The server certificate (PEM), for 127.0.0.1 and localhost, signed by the CA. */
  cert: string;
  /** The server certificate's private key (PEM, PKCS #8). */
  key: string;
  /** A private key that belongs to no certificate here (PEM). */
  otherKey: string;
  /** The CA certificate (PEM), to trust the server certificate with. */
  ca: string;
  /** The text of the CA certificate, for `Deno.connectTls({ caCerts: [caPem] })`. */
  caPem: string;
}

const decoder = new TextDecoder();

async function openssl(dir: string, args: string[]): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("openssl", { args, cwd: dir, stdin: "null", stdout: "null", stderr: "piped" })
      .output();
  } catch (error) {
    throw new Error(`cannot run openssl to make test certificates: ${(error as Error).message}`);
  }
  if (!output.success) {
    const why = decoder.decode(output.stderr).trim().split("\n")[0];
    throw new Error(`openssl ${args[0]} failed making test certificates: ${why}`);
  }
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * Writes a CA (`ca.pem`), a server certificate and key signed by it
 * (`cert.pem`, `key.pem`; subjectAltName IP:127.0.0.1 and DNS:localhost,
 * basicConstraints CA:FALSE) and an unrelated key (`other-key.pem`) into
 * `dir`, valid for two days. Throws, saying why, when openssl fails.
 */
export async function makeCertificates(dir: string): Promise<TestCertificates> {
  const path = (name: string) => `${dir}/${name}`;
  await openssl(dir, [
    ...["req", "-x509", ...EC_KEY, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2"],
    ...["-subj", "/CN=teaparty test CA"],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
  await openssl(dir, ["req", ...EC_KEY, "-keyout", "key.pem", "-out", "cert.csr", "-subj", "/CN=localhost"]);
  await Deno.writeTextFile(
    path("cert.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n" +
      "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(dir, [
    ...["x509", "-req", "-in", "cert.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial"],
    ...["-out", "cert.pem", "-days", "2", "-extfile", "cert.ext"],
  ]);
  await openssl(dir, [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-out",
    "other-key.pem",
  ]);
  return {
    cert: path("cert.pem"),
    key: path("key.pem"),
    otherKey: path("other-key.pem"),
    ca: path("ca.pem"),
    caPem: await Deno.readTextFile(path("ca.pem")),
  };
}
