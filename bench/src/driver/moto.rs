//! moto (`.venv/bin/python tests/moto_launcher.py`) on a free 127.0.0.1
//! port, stopped when this value is dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};

pub struct Moto {
    pub endpoint: String,
    child: Child,
    _stdin: ChildStdin,
}

impl Moto {
    pub fn start() -> Result<Self, String> {
        let root = crate::workspace_root();
        let python = root.join(".venv/bin/python");
        let mut child = Command::new(&python)
            .arg(root.join("tests/moto_launcher.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start moto with {}: {e}; run scripts/setup", python.display()))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .map_err(|e| format!("moto: {e}"))?;
        let port: u16 =
            line.trim().parse().map_err(|_| format!("moto did not start (printed {line:?}); run scripts/setup"))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        crate::wait_for_port(&format!("127.0.0.1:{port}"), std::time::Duration::from_secs(10))?;
        Ok(Self { endpoint, child, _stdin: stdin })
    }

    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(SharedCredentialsProvider::new(Credentials::for_tests()))
            .http_client(signup::aws::https_client())
            .build()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
