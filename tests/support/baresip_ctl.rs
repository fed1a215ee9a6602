//! baresip's command port (ctrl_tcp, enabled by the testbed's TESTBED_CTRL_PORT):
//! netstring JSON commands out, its answers and events in. Shared by the integration
//! tests and the call benchmark.

use std::time::Duration;

pub struct BaresipCtl {
    stream: std::net::TcpStream,
    events: std::sync::mpsc::Receiver<serde_json::Value>,
}

impl BaresipCtl {
    /// Connects (baresip may still be starting: up to 5 s).
    pub fn connect(port: u16) -> BaresipCtl {
        let stream = (0..100)
            .find_map(|_| {
                std::net::TcpStream::connect(("127.0.0.1", port)).ok().or_else(|| {
                    std::thread::sleep(Duration::from_millis(50));
                    None
                })
            })
            .expect("baresip's ctrl_tcp listens");
        // Small writes go out at once (Nagle's delay would be counted as baresip's).
        stream.set_nodelay(true).unwrap();
        let mut reader = stream.try_clone().unwrap();
        let (tx, events) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = reader.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                // Netstrings: LEN ":" JSON ","
                while let Some(colon) = buf.iter().position(|b| *b == b':') {
                    let Ok(len) = std::str::from_utf8(&buf[..colon]).unwrap_or("x").parse::<usize>() else { break };
                    if buf.len() < colon + len + 2 {
                        break;
                    }
                    if let Ok(v) = serde_json::from_slice(&buf[colon + 1..colon + 1 + len]) {
                        let _ = tx.send(v);
                    }
                    buf.drain(..colon + 2 + len);
                }
            }
        });
        BaresipCtl { stream, events }
    }

    pub fn command(&mut self, command: &str, params: &str) {
        use std::io::Write;
        let body = serde_json::json!({ "command": command, "params": params, "token": "t" }).to_string();
        write!(self.stream, "{}:{},", body.len(), body).unwrap();
    }

    /// The next event of `kind` (its `param`), skipping others; None after `timeout`.
    pub fn event(&self, kind: &str, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            let v = self.events.recv_timeout(left).ok()?;
            if v.get("type").and_then(|t| t.as_str()) == Some(kind) {
                return Some(v.get("param").and_then(|p| p.as_str()).unwrap_or_default().to_string());
            }
        }
    }
}
