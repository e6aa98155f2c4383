//! Every finding code with its remedy, and the Windows client errors rdpscope may name.
//! docs/findings.md carries the same text (a test keeps the two in step).

/// What a Windows client (mstsc) most likely showed; always reported as an inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientError {
    /// 0x204: the socket could not connect.
    ConnectFailed,
    /// 0x904: the socket was closed by the other side or the network.
    Closed,
    /// 0x904 with extended reason 0x7 (exDiscReasonServerDeniedConnection).
    ServerDenied,
}

impl ClientError {
    pub fn code(self) -> &'static str {
        match self {
            ClientError::ConnectFailed => "0x204",
            ClientError::Closed => "0x904",
            ClientError::ServerDenied => "0x904 / 0x7",
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            ClientError::ConnectFailed => "the connection could not be opened: nothing answered on the port",
            ClientError::Closed => "the connection was closed by the other side or the network",
            ClientError::ServerDenied => "the connection was closed; extended reason 0x7: the server refused it",
        }
    }
}

/// `(code, remedy)` for every finding code. Negotiation failures have one entry per
/// failure code (`negotiation_failure:N`).
pub const REMEDIES: &[(&str, &str)] = &[
    ("tcp_refused", "Nothing accepted the connection on the server port. On the server, check that the Remote Desktop Services service (TermService) is running and listening (netstat -ano | findstr :3389), that Remote Desktop is enabled (fDenyTSConnections = 0 under HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server) and that the port matches PortNumber under ...\\Terminal Server\\WinStations\\RDP-Tcp. If a firewall sends the reset, allow TCP 3389 there (Windows rule \"Remote Desktop - User Mode (TCP-In)\")."),
    ("tcp_unanswered", "The SYN was dropped on the way or at the server. Check every firewall and security group between client and server for TCP 3389 (Windows rule \"Remote Desktop - User Mode (TCP-In)\", network ACLs, VPN split tunnels), that the server is up and that the address and route are right; a capture on the server side shows whether the SYN arrives."),
    ("proxy_refused", "The proxy (SOCKS or HTTP CONNECT), not the RDP server, answered: it could not or would not open the tunnel, and its answer (in the finding) says why. HTTP 403 or SOCKS \"connection not allowed by ruleset\": the proxy's rules forbid this target or port; many HTTP proxies allow CONNECT only to port 443 (tinyproxy: ConnectPort; squid: the SSL_ports / CONNECT rules; dante: socks pass rules), so allow 3389 to this server there, or publish RDP through an RD Gateway on 443. \"connection refused\", HTTP 500/502/503: nothing answered on the target port (check the RDP server as for tcp_refused, from the proxy: nc -vz TARGET 3389). \"host unreachable\", \"network unreachable\", \"TTL expired\", HTTP 504: the proxy has no route to the target (check the name or address the client asked for, and DNS on the proxy). \"command\" or \"address type not supported\": change the client's proxy settings (e.g. let the proxy resolve the name). A proxy that closes without an answer logs the reason itself."),
    ("proxy_auth_failed", "The proxy refused the client's credentials, or the client sent none (HTTP 407) or offered no method the proxy accepts (SOCKS5). Check the proxy user name and password in the client (FreeRDP: /proxy:socks5://USER:PASSWORD@HOST:PORT or /proxy:http://USER:PASSWORD@HOST:PORT) and the methods the proxy allows (dante: socksmethod; microsocks: -u/-P; tinyproxy: BasicAuth; squid: auth_param); the proxy's log says what it rejected."),
    ("proxy_no_reply", "The proxy (SOCKS or HTTP CONNECT) accepted TCP but never answered: it is most likely still trying to reach the RDP server (a firewall between the proxy and the server dropping its SYN), or it is hung. From the proxy, test the target (nc -vz TARGET 3389) and read the proxy's log; the proxy's connect timeout may be longer than the client's."),
    ("via_proxy", "Nothing to fix: the connection went through a SOCKS or HTTP CONNECT proxy. The TCP figures (round trips, retransmissions, resets) are those of the client-proxy leg; capture on the proxy's other side to see the leg to the RDP server."),
    ("server_no_response", "The server accepted TCP but never answered the X.224 Connection Request: the RDP listener is hung, or a proxy or load balancer accepts TCP without forwarding it. Restart Remote Desktop Services (TermService), check what owns the port, and read the Microsoft-Windows-TerminalServices-RemoteConnectionManager event log."),
    ("negotiation_failure:1", "The server requires TLS or NLA but the client offered only standard RDP security. Let the client use TLS/NLA (update it; mstsc: enablecredsspsupport:i:1 in the .rdp file; FreeRDP: /sec:tls or /sec:nla), or, only if you must, set the server's security layer to Negotiate (group policy \"Require use of specific security layer for remote (RDP) connections\", SecurityLayer = 1 under ...\\WinStations\\RDP-Tcp)."),
    ("negotiation_failure:2", "The server allows only standard RDP security (SecurityLayer = 0 under HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp, or the group policy \"Require use of specific security layer for remote (RDP) connections\" = RDP). Set it to Negotiate (1) or SSL (2) so TLS can be used; a client that allows it retries with standard RDP security."),
    ("negotiation_failure:3", "The server has no usable TLS certificate. Check the Remote Desktop certificate (certificate store \"Remote Desktop\", SSLCertificateSHA1Hash under ...\\WinStations\\RDP-Tcp) and that NETWORK SERVICE can read its private key; delete a broken hash so the server makes a new self-signed certificate, then restart TermService. For xrdp: the certificate and key_file settings in xrdp.ini must name readable files."),
    ("negotiation_failure:4", "The client sent inconsistent negotiation flags: update or reconfigure the client."),
    ("negotiation_failure:5", "The server requires Network Level Authentication (CredSSP) and the client did not offer it. Enable NLA/CredSSP on the client (mstsc: enablecredsspsupport:i:1; FreeRDP: /sec:nla), or, if the client cannot do NLA, clear \"Require user authentication for remote connections by using Network Level Authentication\" on the server (UserAuthentication = 0 under ...\\WinStations\\RDP-Tcp)."),
    ("negotiation_failure:6", "The server requires TLS with user authentication (RDSTLS); use a client that supports it or change the server's authentication requirement."),
    ("negotiation_failure", "The server refused every security protocol the client offered; make the client's offer and the server's requirement meet (see the failure code)."),
    ("security_layer_mismatch", "Make the client's and the server's security layers agree. Server: group policy \"Require use of specific security layer for remote (RDP) connections\" (SecurityLayer under ...\\WinStations\\RDP-Tcp: 0 RDP, 1 Negotiate, 2 SSL) and \"Require user authentication ... Network Level Authentication\" (UserAuthentication). Client: allow what the server selects (mstsc: authentication level and enablecredsspsupport in the .rdp file; FreeRDP: /sec:rdp|tls|nla)."),
    ("tls_version_mismatch", "Enable a TLS version both sides speak. Windows: TLS 1.2 needs KB3080079 on 2008 R2/Windows 7 and the SCHANNEL keys HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Server (Enabled = 1, DisabledByDefault = 0); a server that speaks only TLS 1.0 must be updated rather than the client weakened. xrdp: ssl_protocols in xrdp.ini."),
    ("tls_cipher_mismatch", "The two sides share no cipher suite. Align the server's suites (group policy \"SSL Cipher Suite Order\", or tls_ciphers in xrdp.ini) with the client's; check both for FIPS mode (\"System cryptography: Use FIPS compliant algorithms\") and for hardening tools that removed suites."),
    ("tls_alert", "The TLS alert names what the sending side objected to; check that side's TLS configuration and certificate (on Windows, SCHANNEL events 36874 and 36888 in the System log)."),
    ("cert_expired", "Renew the server's RDP certificate: issue a new one from your CA, or let the server make a new self-signed one (delete the old one from the \"Remote Desktop\" certificate store and restart TermService), and point SSLCertificateSHA1Hash (...\\WinStations\\RDP-Tcp, or Win32_TSGeneralSetting) at it. For xrdp: certificate and key_file in xrdp.ini."),
    ("cert_not_yet_valid", "The certificate's validity starts in the future: fix the clock of the machine that made it (and of the client: w32tm /resync), then reissue the certificate."),
    ("cert_self_signed", "Self-signed certificates are normal for RDP. To stop the client's warning or rejection, deploy a certificate from a CA the clients trust (group policy \"Server authentication certificate template\") or add this certificate to the clients' trusted store."),
    ("cert_name_mismatch", "Connect with a name the certificate carries, or issue a certificate whose subject or subjectAltName includes the name or address the clients use."),
    ("cert_rejected_by_client", "The client refused the server after the TLS handshake (the reason is inside an encrypted alert, or not sent at all). Check the certificate findings: trust the issuing CA on the client, connect with the name in the certificate, or replace the certificate; mstsc's \"If server authentication fails\" setting (authentication level) decides whether it warns or refuses."),
    ("nla_failed", "The server refused the logon during NLA (CredSSP). Check the user name (DOMAIN\\user), the password, that the account is not locked, disabled or expired, and that it may log on remotely (Remote Desktop Users group, \"Allow log on through Remote Desktop Services\"). The server's Security log (event 4625) gives the reason."),
    ("nla_failed:0xC000006D", "STATUS_LOGON_FAILURE: the user name or the password is wrong (the server does not say which). Check the user name (DOMAIN\\user or user@domain), the keyboard layout and Caps Lock, and that the password has not just been changed; the server's Security log (event 4625, Sub Status) tells a wrong password from an unknown user."),
    ("nla_failed:0xC000006E", "STATUS_ACCOUNT_RESTRICTION: the account may not log on this way. Most often a member of Protected Users (which may not use NTLM) reached the server by NTLM: connect by the host's DNS name (not its IP address) so Kerberos is used, make sure the client can reach a domain controller (or a KDC proxy) for Kerberos, or take the account out of Protected Users. Other causes: logon hours, \"Account is sensitive and cannot be delegated\" with Restricted Admin, an empty password (blank passwords are refused over the network)."),
    ("nla_failed:0xC0000064", "STATUS_NO_SUCH_USER: the server (or its domain controller) does not know this user. Check the user name and the domain part (DOMAIN\\user, or .\\user for a local account) and that the server is in the domain the user belongs to."),
    ("nla_failed:0xC000006A", "STATUS_WRONG_PASSWORD: the password is wrong. Check keyboard layout and Caps Lock, saved credentials in the client (Credential Manager, .rdp files) that still hold an old password, and repeated failures that will lock the account out."),
    ("nla_failed:0xC0000071", "STATUS_PASSWORD_EXPIRED: the password has expired, and NLA cannot change it. Change it elsewhere (Ctrl+Alt+Del on a domain machine, the web portal, or an administrator), or let the user change it at the logon screen by connecting once without NLA (enablecredsspsupport:i:0 in the .rdp file, with the server allowing it)."),
    ("nla_failed:0xC0000072", "STATUS_ACCOUNT_DISABLED: the account is disabled. An administrator re-enables it (Active Directory Users and Computers, or Enable-ADAccount; local: lusrmgr.msc)."),
    ("nla_failed:0xC0000193", "STATUS_ACCOUNT_EXPIRED: the account's expiry date has passed. An administrator extends it (Account tab, \"Account expires\", or Set-ADAccountExpiration)."),
    ("nla_failed:0xC0000224", "STATUS_PASSWORD_MUST_CHANGE: the user must change the password at next logon, and NLA cannot do that. Change it elsewhere first (Ctrl+Alt+Del on a domain machine, a self-service portal, or an administrator), then reconnect."),
    ("nla_failed:0xC0000234", "STATUS_ACCOUNT_LOCKED_OUT: too many bad passwords locked the account. Wait for the lockout duration or have an administrator unlock it (Unlock-ADAccount), and find what keeps sending the old password (saved credentials, mapped drives, phones; the domain controller's event 4740 names the caller)."),
    ("nla_failed:0xC000015B", "STATUS_LOGON_TYPE_NOT_GRANTED: the user may not log on through Remote Desktop. Add the user (or a group) to Remote Desktop Users on the server, and check the \"Allow log on through Remote Desktop Services\" and \"Deny log on through Remote Desktop Services\" user rights (secpol.msc or group policy)."),
    ("nla_failed:0xC0000133", "STATUS_TIME_DIFFERENCE_AT_DC: the clocks of the client, the server and the domain controller differ by more than Kerberos allows (5 minutes by default). Fix time synchronisation (w32tm /query /status; w32tm /resync) on the machine that is off."),
    ("nla_failed:0xC000005E", "STATUS_NO_LOGON_SERVERS: the server could reach no domain controller to check the credentials. Check the server's DNS and network path to its domain controllers (nltest /dsgetdc:DOMAIN) and the secure channel (Test-ComputerSecureChannel)."),
    ("nla_failed:0x8009030C", "SEC_E_LOGON_DENIED: the logon was refused (wrong credentials, or the account may not use this authentication). Check the user name and password; with a domain account, the domain controller's Security log tells more."),
    ("logon_failed", "The server's logon (after NLA, or without it) failed and it told the client why: LOGON_FAILED_BAD_PASSWORD means a wrong user name or password; LOGON_FAILED_UPDATE_PASSWORD means the password must be changed first; LOGON_FAILED_OTHER has its reason in the server's Security and TerminalServices-LocalSessionManager logs. With NLA enabled the credentials are checked before the session, so such a failure often comes from a different account typed at the logon screen."),
    ("license_failed", "Remote Desktop licensing refused the client. ERR_NO_LICENSE_SERVER: the session host finds no RD Licensing server (set it in Remote Desktop Licensing Manager / \"Use the specified Remote Desktop license servers\"), or the 120-day grace period has ended; ERR_NO_LICENSE / ERR_INVALID_CLIENT: no CAL is available for this client or user, or the client's cached license is bad (on the client, delete HKLM\\SOFTWARE\\Microsoft\\MSLicensing and reconnect as administrator once); ERR_INVALID_SCOPE / ERR_INVALID_PRODUCTID: the licensing mode (per user / per device) or the server's product does not match the installed CALs. The RD Licensing Diagnoser on the session host names the problem."),
    ("server_denied", "The server refused the session after the connection sequence and said so (Set Error Info): ERRINFO_SERVER_DENIED_CONNECTION means its policy did not let this connection in (a Remote Desktop Services configuration that denies the user or the client, or a connection limit); ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES means the user lacks the right to log on remotely (Remote Desktop Users group, \"Allow log on through Remote Desktop Services\"); ERRINFO_SERVER_FRESH_CREDENTIALS_REQUIRED means saved or delegated credentials are not accepted and the user must type them. The server's TerminalServices-LocalSessionManager and RemoteConnectionManager event logs say more."),
    ("disconnected", "The server ended the session and said why (Set Error Info; the code is the \"extended error\" the client shows). A user-initiated code (the user disconnected or logged off) needs nothing. Otherwise act on the reason: an idle or active-session time limit (Session Time Limits in group policy or the user's Sessions tab), another connection taking over the session, an administrator's disconnect, out of memory or a failed server component (the server's System and TerminalServices logs), or a protocol error (update client and server)."),
    ("redirected", "Information: a connection broker sent the client to the host that has (or will get) the user's session. The client opens a new connection there; if that one fails, its own verdict says why. Redirection needs the target host reachable from the client on its RDP port."),
    ("nla_client_abort", "The client ended NLA (CredSSP) itself: the user cancelled the credential prompt, the client rejected the server's identity, or the CredSSP \"Encryption Oracle Remediation\" policies of client and server do not match (install the CVE-2018-0886 updates on both; AllowEncryptionOracle on the client only as a stopgap)."),
    ("early_auth_denied", "The credentials were accepted but the user may not log on through Remote Desktop: add the user to Remote Desktop Users or grant \"Allow log on through Remote Desktop Services\", and check \"Deny log on through Remote Desktop Services\"."),
    ("server_reset", "The server, or a device in the path that resets on its behalf, aborted the connection. Look at the server's event logs at that time (System, TerminalServices-RemoteConnectionManager, RemoteDesktopServices-RdpCoreTS) for a crash or restart of the RDP service, and at firewalls or IPS that reset connections."),
    ("client_reset", "The client aborted the connection before the session: a client-side timeout, a user cancel or a client security check. Check the client's settings and event log."),
    ("client_closed", "The client closed the connection before the session without a visible reason; check the client's error message and log (this is where its own checks show)."),
    ("server_closed", "The server closed the connection before the session started. Its event logs (TerminalServices-RemoteConnectionManager, RemoteDesktopServices-RdpCoreTS; xrdp.log for xrdp) give the reason: licensing, the connection limit, an encryption level or security layer the client cannot meet."),
    ("high_latency", "The round trip is slow. Use a closer gateway or a better path (check the VPN and Wi-Fi), and let RDP adapt: allow RDP over UDP, keep connection-quality auto-detection on, lower the colour depth."),
    ("latency_spike", "Round trips jumped far above this connection's own baseline: look for congestion, a busy VPN concentrator, bufferbloat or Wi-Fi roaming at that moment."),
    ("retransmissions", "Segments were lost and sent again: check the path in the named direction for loss (interface errors, duplex mismatch, congested links, Wi-Fi, a VPN with a smaller MTU)."),
    ("zero_window", "A receiver stopped reading (zero window): the side that advertised it was overloaded or stalled (CPU, a hung RDP process, inspection software)."),
    ("pmtu_blackhole", "Full-size segments do not get through and no ICMP \"fragmentation needed\" comes back: a path-MTU black hole, typical on VPNs and tunnels. Allow ICMP type 3 code 4 (ICMPv6 type 2) on the path, lower the tunnel interface's MTU, or clamp the TCP MSS on the VPN gateway or firewall."),
    ("udp_unanswered", "RDP over UDP was blocked, so the client stayed on TCP. To use UDP, allow UDP 3389 to the server (Windows rule \"Remote Desktop - User Mode (UDP-In)\")."),
    ("capture_incomplete", "The capture does not show the whole connection: start capturing before the client connects and keep it running until the client shows its error."),
];

/// The remedy for a code (with `negotiation_failure:N` falling back to the general text).
pub fn remedy(code: &str) -> &'static str {
    REMEDIES
        .iter()
        .find(|(c, _)| *c == code)
        .or_else(|| {
            code.split(':')
                .next()
                .and_then(|base| REMEDIES.iter().find(|(c, _)| *c == base))
        })
        .map_or("", |(_, r)| r)
}
