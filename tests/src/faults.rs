//! A port on 127.0.0.1 that stands in front of a real server and can be
//! told to fail: forward every connection, refuse connections (nothing
//! listens), or accept them and never answer. Changing the fault cuts every
//! open connection, so pooled keep-alive connections meet the new fault too.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every connection reaches the server behind.
    None,
    /// Nothing listens: connecting fails at once.
    Refuse,
    /// Connections are accepted and held; not a byte comes back.
    Hang,
}

pub struct FaultyPort {
    /// `http://127.0.0.1:<port>`, for an SDK's endpoint URL.
    pub endpoint: String,
    addr: SocketAddr,
    target: SocketAddr,
    state: Arc<Mutex<State>>,
}

struct State {
    fault: Fault,
    listener: Option<AbortHandle>,
    connections: Vec<AbortHandle>,
}

impl FaultyPort {
    /// Forwards to `target` (`http://host:port` or `host:port`) until told otherwise.
    pub async fn forwarding_to(target: &str) -> Self {
        let target: SocketAddr = target.trim_start_matches("http://").parse().expect("a host:port on 127.0.0.1");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State { fault: Fault::None, listener: None, connections: Vec::new() }));
        let port = Self { endpoint: format!("http://{addr}"), addr, target, state };
        port.listen(listener);
        port
    }

    /// Takes effect at once, for open connections too.
    pub async fn set(&self, fault: Fault) {
        let was_listening = {
            let mut state = self.state.lock().unwrap();
            state.fault = fault;
            state.connections.drain(..).for_each(|c| c.abort());
            if fault == Fault::Refuse {
                if let Some(listener) = state.listener.take() {
                    listener.abort();
                }
            }
            state.listener.is_some()
        };
        if fault != Fault::Refuse && !was_listening {
            // The same port again: SO_REUSEADDR (tokio sets it) allows it at once.
            let listener = TcpListener::bind(self.addr).await.expect("the port is free again");
            self.listen(listener);
        }
        // Let the aborted tasks drop their sockets before the caller goes on.
        tokio::task::yield_now().await;
        if fault == Fault::Refuse {
            for _ in 0..100 {
                if TcpStream::connect(self.addr).await.is_err() {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            panic!("{} still accepts connections", self.addr);
        }
    }

    fn listen(&self, listener: TcpListener) {
        let (state, target) = (self.state.clone(), self.target);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let fault = state.lock().unwrap().fault;
                let connection = tokio::spawn(async move {
                    match fault {
                        Fault::Hang => std::future::pending::<()>().await,
                        _ => {
                            if let Ok(mut server) = TcpStream::connect(target).await {
                                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            }
                        }
                    }
                    drop(client);
                });
                state.lock().unwrap().connections.push(connection.abort_handle());
            }
        });
        self.state.lock().unwrap().listener = Some(task.abort_handle());
    }
}

impl Drop for FaultyPort {
    fn drop(&mut self) {
        let mut state = self.state.lock().unwrap();
        state.connections.drain(..).for_each(|c| c.abort());
        if let Some(listener) = state.listener.take() {
            listener.abort();
        }
    }
}
