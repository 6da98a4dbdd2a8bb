//! Telling systemd how the broker is doing: `READY=1` once it serves,
//! `STOPPING=1` once it drains. `deploy/deputy.service` is `Type=notify`,
//! so `systemctl start deputy` returns (and units ordered after it start)
//! only when the broker answers, and a broker that fails before that is a
//! failed start rather than a service that was "started" and then died.
//!
//! The protocol is one datagram of `KEY=VALUE` lines to the Unix socket
//! named by `NOTIFY_SOCKET`, so it is written here with std alone instead
//! of pulling in a crate (or libsystemd) for a dozen lines. Outside systemd
//! the variable is unset and every call does nothing: the container image,
//! the tests and a broker run by hand never notice. A notification that
//! cannot be sent is logged and otherwise ignored: the broker serves the
//! same either way, and systemd's start timeout reports a missing
//! `READY=1` on its own.

use std::os::unix::net::UnixDatagram;

/// The broker listens and its store is migrated: requests are answered.
pub fn ready() {
    notify("READY=1");
}

/// A termination signal arrived: the broker drains, then exits.
/// (systemd shows the unit as deactivating rather than active meanwhile.)
pub fn stopping() {
    notify("STOPPING=1");
}

/// Sends `message` to `NOTIFY_SOCKET`, if systemd set it. The variable is
/// left in place (removing it is `unsafe` in a threaded process); a child
/// that inherits it is harmless, as the unit says `NotifyAccess=main`.
fn notify(message: &str) {
    let socket = match std::env::var("NOTIFY_SOCKET") {
        Ok(socket) => socket,
        Err(std::env::VarError::NotPresent) => return,
        Err(std::env::VarError::NotUnicode(_)) => {
            tracing::warn!(
                notification = message,
                "NOTIFY_SOCKET is not UTF-8; systemd not told"
            );
            return;
        }
    };
    match send_to(&socket, message) {
        Ok(()) => tracing::debug!(notification = message, "told systemd"),
        Err(e) => tracing::warn!(
            notification = message,
            socket = %socket,
            error = %e,
            "could not tell systemd (NOTIFY_SOCKET)"
        ),
    }
}

/// One datagram holding `message` to `socket`, as systemd writes it in
/// `NOTIFY_SOCKET`: an absolute path, or `@name` for a socket in the
/// abstract namespace (Linux). Split out from [`notify`] so the tests can
/// name their own socket without setting a variable every test thread
/// shares.
fn send_to(socket: &str, message: &str) -> std::io::Result<()> {
    let sender = UnixDatagram::unbound()?;
    let sent = if let Some(name) = socket.strip_prefix('@') {
        send_abstract(&sender, name, message)?
    } else if socket.starts_with('/') {
        sender.send_to(message.as_bytes(), socket)?
    } else {
        // Newer systemd may also name an AF_VSOCK address (`vsock:...`),
        // for a manager outside a virtual machine; the unit never gets one.
        return Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "neither an absolute path nor an @abstract name",
        ));
    };
    // A datagram goes whole or not at all; checked all the same, since a
    // cut `READY=1` would be a start that times out with no word why.
    if sent != message.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::WriteZero,
            format!("sent {sent} of {} bytes", message.len()),
        ));
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn send_abstract(sender: &UnixDatagram, name: &str, message: &str) -> std::io::Result<usize> {
    use std::os::linux::net::SocketAddrExt;
    let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    sender.send_to_addr(message.as_bytes(), &address)
}

/// The abstract namespace is Linux's; elsewhere there is no systemd to
/// hand out such a name.
#[cfg(not(target_os = "linux"))]
fn send_abstract(_: &UnixDatagram, _: &str, _: &str) -> std::io::Result<usize> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "abstract socket names are Linux's",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The one datagram waiting on `socket` (or a test failure after 5 s).
    fn received(socket: &UnixDatagram) -> String {
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 256];
        let n = socket.recv(&mut buf).expect("a datagram arrives");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn a_message_reaches_a_socket_named_by_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let systemd = UnixDatagram::bind(&path).unwrap();
        send_to(path.to_str().unwrap(), "READY=1").unwrap();
        assert_eq!(received(&systemd), "READY=1");
        send_to(path.to_str().unwrap(), "STOPPING=1").unwrap();
        assert_eq!(received(&systemd), "STOPPING=1");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_message_reaches_an_abstract_socket_named_with_an_at() {
        use std::os::linux::net::SocketAddrExt;
        // Abstract names are shared by the whole network namespace: this
        // process's id and the time keep parallel runs apart.
        let name = format!(
            "deputy-notify-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let systemd = UnixDatagram::bind_addr(&address).unwrap();
        send_to(&format!("@{name}"), "READY=1").unwrap();
        assert_eq!(received(&systemd), "READY=1");
    }

    #[test]
    fn a_socket_no_one_listens_on_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone");
        assert!(send_to(missing.to_str().unwrap(), "READY=1").is_err());
        let err = send_to("vsock:2:1234", "READY=1").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    }
}
