//! An https front for the farm: a throwaway certificate authority and server certificate
//! made with the `openssl` command, and a small TLS relay in Python (its `ssl` module) that
//! hands each decrypted request to the farm. sharc trusts the authority through
//! `SSL_CERT_FILE`, as any rustls client reading the system's roots does.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const RELAY: &str = r#"
import socket, ssl, sys, threading
cert, key, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(64)
print(ls.getsockname()[1], flush=True)

def handle(c):
    try:
        t = ctx.wrap_socket(c, server_side=True)
        head = b""
        while b"\r\n\r\n" not in head:
            d = t.recv(65536)
            if not d:
                return
            head += d
        u = socket.create_connection(("127.0.0.1", upstream))
        u.sendall(head)
        while True:
            d = u.recv(65536)
            if not d:
                break
            t.sendall(d)
        u.close()
        try:
            t.unwrap()
        except Exception:
            pass
    except Exception:
        pass
    finally:
        c.close()

while True:
    c, _ = ls.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"#;

/// The relay, running; killed when dropped.
pub struct TlsFront {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// The authority's certificate, for `SSL_CERT_FILE`.
    pub ca: PathBuf,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command (Debian package openssl) is needed for the https tests");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes an authority and a certificate for 127.0.0.1 and localhost in `dir`, and starts a
/// TLS relay to `upstream_port`.
pub fn start(dir: &Path, upstream_port: u16) -> TlsFront {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "3",
        "-subj",
        "/CN=hostile farm CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("leaf.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "3",
            "-extfile",
            "leaf.ext",
        ],
    );
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(RELAY)
        .arg(dir.join("leaf.pem"))
        .arg(dir.join("leaf.key"))
        .arg(upstream_port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 is needed for the https tests");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("relay stdout"))
        .read_line(&mut line)
        .expect("relay port");
    let port = line.trim().parse().expect("relay port number");
    TlsFront {
        child,
        port,
        ca: dir.join("ca.pem"),
    }
}
