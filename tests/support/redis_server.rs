//! A real `redis-server` on a loopback port of its own, stopped on drop.
//! CI installs it (`.ci/run`); without it a test fails and says so.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Child,
    pub port: u16,
    password: Option<String>,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        Self::start_with(None)
    }

    /// A server that asks for `password` (`requirepass`).
    pub fn start_with(password: Option<&str>) -> RedisServer {
        // Redis cannot bind port 0: take a free port and let it go.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = password {
            cmd.args(["--requirepass", p]);
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start redis-server ({e}): install it (apt-get install redis-server; .ci/run does)")
        });
        let server = RedisServer {
            child,
            port,
            password: password.map(str::to_string),
        };
        let started = Instant::now();
        while server.command(&["PING"]).as_deref() != Some("+PONG") {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server on port {port} did not answer PING within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// One command over RESP; the first line of the answer (`+PONG`,
    /// `:3`...), `None` when the server does not answer.
    pub fn command(&self, args: &[&str]) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        let mut out = String::new();
        let mut push = |args: &[&str]| {
            out.push_str(&format!("*{}\r\n", args.len()));
            for a in args {
                out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
            }
        };
        if let Some(p) = &self.password {
            push(&["AUTH", p]);
        }
        push(args);
        s.write_all(out.as_bytes()).ok()?;
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        let wanted = if self.password.is_some() { 2 } else { 1 };
        while answer.iter().filter(|b| **b == b'\n').count() < wanted {
            let n = s.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            answer.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&answer).to_string();
        text.lines().nth(wanted - 1).map(str::to_string)
    }

    /// Keys matching `pattern` (`KEYS`; tests only).
    pub fn count_keys(&self, pattern: &str) -> usize {
        let line = self
            .command(&["EVAL", "return #redis.call('keys', ARGV[1])", "0", pattern])
            .expect("redis answers");
        line.trim_start_matches(':').parse().expect("a count")
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill9();
    }
}
