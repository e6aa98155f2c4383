//! Inside TLS with the session keys: the connection's decryptor (both directions), and per
//! direction the decrypted application data cut into CredSSP TSRequests, the HYBRID_EX Early
//! User Authorization Result, then RDP PDUs (TPKT; fast-path skipped by length). What each
//! says goes to the facts (`conn::inside_facts`) and the timeline. Bounded like the stream
//! decoder: a PDU longer than `max_stream_buffer` is skipped, garbage ends the direction.

use crate::conn::ctx::Ctx;
use crate::conn::event::{EventKind, InsideEvent};
use crate::conn::facts::TlsFacts;
use crate::conn::inside_facts::{DecryptionFacts, LicenseOutcome, Mechanism, MAX_ERROR_INFOS};
use crate::decrypt::{Direction, HandshakeParams, KeySource, Keys, Plain, Refusal, RsaExchange, Secrets, Stop};
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::credssp::{self, TsRequest};
use crate::proto::kerberos::{KrbMech, KrbMessage};
use crate::proto::ntlm::NtlmMessage;
use crate::proto::rdp::license::{LicenseErrorCode, LicenseMsgType};
use crate::proto::rdp::share::{DataPdu, SessionInfo, SharePdu};
use crate::proto::rdp::{self, ChannelContent, Framing, RdpPdu};
use crate::proto::spnego::{self, AuthMessage};
use crate::proto::x224::Protocols;
use crate::proto::ParseError;

/// The decryptor of one connection: one [`Direction`] per side.
pub struct Decryptor {
    dirs: [Direction; 2],
    source: KeySource,
}

/// Whether a connection can be decrypted. A clone (a live view's copy) does not decrypt.
#[derive(Default)]
pub enum DecryptState {
    /// No key matched yet (or the hellos are not both seen).
    #[default]
    Unknown,
    Active(Box<Decryptor>),
}

impl Clone for DecryptState {
    fn clone(&self) -> Self {
        DecryptState::Unknown
    }
}

impl std::fmt::Debug for DecryptState {
    // Never the keys: only whether there are any.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecryptState::Unknown => "DecryptState::Unknown",
            DecryptState::Active(_) => "DecryptState::Active",
        })
    }
}

impl DecryptState {
    /// The decryptor, made once both hellos are known and the key log has this connection's
    /// client random (a key log that grows while a live capture runs is looked up again).
    pub fn get(&mut self, keys: Option<&Keys>, tls: &TlsFacts) -> Option<&mut Decryptor> {
        if let DecryptState::Unknown = self {
            let keys = keys.filter(|k| !k.is_empty())?;
            let (_, ch) = tls.client_hello.as_ref()?;
            let (_, sh) = tls.server_hello.as_ref()?;
            let params = HandshakeParams {
                version: sh.version.0,
                cipher: sh.cipher,
                client_random: ch.random,
                server_random: sh.random,
                encrypt_then_mac: sh.encrypt_then_mac,
            };
            let dirs = match keys.get(&ch.random) {
                Some((source, secrets)) => Some((source, both(&params, secrets))),
                None if !keys.server.is_empty() => Some((KeySource::ServerKey, with_server_key(keys, tls, &params))),
                None => None,
            };
            let (source, dirs) = dirs?;
            *self = DecryptState::Active(Box::new(Decryptor { dirs, source }));
        }
        match self {
            DecryptState::Active(d) => Some(d),
            DecryptState::Unknown => None,
        }
    }
}

fn both(params: &HandshakeParams, secrets: &Secrets) -> [Direction; 2] {
    [
        Direction::new(params, Some(secrets), Side::Client),
        Direction::new(params, Some(secrets), Side::Server),
    ]
}

/// No key log has the connection: the server's RSA key opens its premaster secret, or both
/// directions say why it cannot (ECDHE's forward secrecy, another server's key, a
/// ClientKeyExchange not captured).
fn with_server_key(keys: &Keys, tls: &TlsFacts, params: &HandshakeParams) -> [Direction; 2] {
    let refused = |stop: Stop| [Direction::refused(stop.clone()), Direction::refused(stop)];
    let client_version = tls.client_hello.as_ref().map_or(0, |(_, ch)| ch.legacy_version.0);
    let extended_master_secret = tls
        .server_hello
        .as_ref()
        .is_some_and(|(_, sh)| sh.extended_master_secret);
    let rsa = &tls.rsa;
    let Some(epms) = rsa.encrypted_premaster.as_deref() else {
        let forward_secret = !crate::decrypt::server_key::is_rsa_key_exchange(params.cipher);
        return refused(if forward_secret {
            Stop::ForwardSecrecy
        } else {
            Stop::NoPremaster
        });
    };
    let x = RsaExchange {
        version: params.version,
        cipher: params.cipher,
        client_version,
        client_random: &params.client_random,
        server_random: &params.server_random,
        encrypted_premaster: epms,
        extended_master_secret,
        transcript: (!rsa.transcript_cut).then_some(rsa.transcript.as_slice()),
    };
    match keys.server.secrets(&x) {
        Ok(secrets) => both(params, &secrets),
        Err(Refusal::ForwardSecrecy) => refused(Stop::ForwardSecrecy),
        Err(Refusal::NoKeyOpens) => refused(Stop::ServerKeyMismatch),
        Err(Refusal::NoTranscript) => refused(Stop::NoPremaster),
    }
}

impl Decryptor {
    pub fn stopped(&self, side: Side) -> bool {
        side.of(&self.dirs).stopped().is_some()
    }

    /// A direction stopped before any record (a server key that cannot open this session:
    /// forward secrecy, another server's key): the decryption facts say why, once. A stop
    /// met while opening records is noted by [`Self::open`].
    pub fn note_refusal(&self, side: Side, facts: &mut crate::conn::facts::RdpFacts) {
        let dir = side.of(&self.dirs);
        let Some(stop) = dir.stopped().filter(|_| dir.records() == 0) else {
            return;
        };
        let d = facts.inside.decryption.get_or_insert(DecryptionFacts {
            keys: self.source,
            records: [0, 0],
            stopped: None,
        });
        if d.stopped.is_none() {
            d.stopped = Some((side, stop.kind()));
        }
    }

    /// Open one record of `side`; the decryption facts count it or note why it failed.
    pub fn open(&mut self, side: Side, at: At, ct: u8, version: u16, body: &[u8], ctx: &mut Ctx<'_>) -> Option<Plain> {
        let dir = side.of_mut(&mut self.dirs);
        let d = ctx.facts.inside.decryption.get_or_insert(DecryptionFacts {
            keys: self.source,
            records: [0, 0],
            stopped: None,
        });
        match dir.open(ct, version, body) {
            Ok(p) => {
                *side.of_mut(&mut d.records) += 1;
                Some(p)
            }
            Err(e) if !e.is_final() => None,
            Err(e) => {
                if d.stopped.is_none() {
                    d.stopped = Some((side, e.kind()));
                }
                ctx.event(
                    at,
                    side,
                    EventKind::Inside(InsideEvent::DecryptionStopped { why: e.kind() }),
                );
                None
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    /// CredSSP TSRequests (DER) until the first byte says otherwise.
    #[default]
    CredSsp,
    Rdp,
    Done,
}

/// One direction's decrypted application data.
#[derive(Debug, Clone, Default)]
pub struct InsideStream {
    mode: Mode,
    buf: Vec<u8>,
    /// Bytes of a PDU still to skip (fast-path, or beyond the bound).
    skip: usize,
}

impl InsideStream {
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Decrypted application data of `side`.
    pub fn data(&mut self, side: Side, at: At, mut d: &[u8], ctx: &mut Ctx<'_>) {
        if self.mode == Mode::Done {
            return;
        }
        if self.skip > 0 {
            let n = self.skip.min(d.len());
            self.skip -= n;
            d = d.get(n..).unwrap_or_default();
        }
        if d.is_empty() {
            return;
        }
        if self.buf.len() + d.len() > ctx.cfg.max_stream_buffer {
            ctx.anomaly(at, side, "decrypted PDU larger than the stream buffer bound");
            self.finish();
            return;
        }
        self.buf.extend_from_slice(d);
        let buf = std::mem::take(&mut self.buf);
        let used = self.process(side, at, &buf, ctx);
        if self.mode != Mode::Done {
            self.buf = buf;
            self.buf.drain(..used.min(self.buf.len()));
        }
    }

    fn finish(&mut self) {
        self.mode = Mode::Done;
        self.buf = Vec::new();
    }

    /// Whole units from `input`; returns the bytes used.
    fn process(&mut self, side: Side, at: At, input: &[u8], ctx: &mut Ctx<'_>) -> usize {
        let mut pos = 0;
        while let Some(rest) = input.get(pos..).filter(|r| !r.is_empty()) {
            if self.mode == Mode::Done {
                return input.len();
            }
            let step = match self.mode {
                Mode::CredSsp => self.credssp_unit(side, at, rest, ctx),
                _ => self.rdp_unit(side, at, rest, ctx),
            };
            match step {
                Some(n) => pos += n,
                None => break,
            }
            if self.skip > 0 {
                return input.len();
            }
        }
        pos
    }

    fn credssp_unit(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        let nla = ctx.facts.selected_protocol().is_some_and(Protocols::is_nla);
        match rest.first() {
            Some(0x30) if nla => match credssp::ts_request_len(rest) {
                Ok(len) => {
                    let unit = rest.get(..len)?;
                    match credssp::parse_ts_request(unit) {
                        Ok(r) => ts_request(side, at, &r, ctx),
                        Err(_) => ctx.anomaly(at, side, "CredSSP TSRequest does not parse"),
                    }
                    Some(len)
                }
                Err(e) => self.unit_error(e, side, at, rest.len(), ctx),
            },
            // HYBRID_EX: after CredSSP the server sends the 4-byte result before any PDU.
            Some(_)
                if side == Side::Server
                    && ctx
                        .facts
                        .selected_protocol()
                        .is_some_and(|p| p.contains(Protocols::HYBRID_EX))
                    && ctx.facts.inside.nla.ts_requests[1] > 0
                    && ctx.facts.inside.nla.early_user_auth.is_none() =>
            {
                let (r, n) = credssp::parse_early_user_auth_result(rest).ok()?;
                ctx.facts.inside.nla.early_user_auth = Some((at, r));
                ctx.event(at, side, EventKind::Inside(InsideEvent::EarlyUserAuth(r)));
                self.mode = Mode::Rdp;
                Some(n)
            }
            _ => {
                self.mode = Mode::Rdp;
                Some(0)
            }
        }
    }

    fn rdp_unit(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        match rdp::next_pdu(rest) {
            Ok((framing, len)) => {
                if framing == Framing::FastPath || len > ctx.cfg.max_stream_buffer {
                    // Fast-path updates and input carry no connection-sequence facts.
                    *side.of_mut(&mut ctx.facts.inside.session.pdus) += 1;
                    if rest.len() >= len {
                        return Some(len);
                    }
                    self.skip = len - rest.len();
                    return Some(rest.len());
                }
                let unit = rest.get(..len)?;
                *side.of_mut(&mut ctx.facts.inside.session.pdus) += 1;
                match rdp::decode_tpkt(unit, &rdp::Context::default()) {
                    Ok(pdu) => rdp_pdu(side, at, pdu, ctx),
                    Err(_) => ctx.anomaly(at, side, "decrypted RDP PDU does not parse"),
                }
                Some(len)
            }
            Err(e) => self.unit_error(e, side, at, rest.len(), ctx),
        }
    }

    /// A unit that could not be cut: more bytes needed (`None`), or garbage, which is said
    /// once and ends reading this direction (all of `rest` is used).
    fn unit_error(&mut self, e: ParseError, side: Side, at: At, rest: usize, ctx: &mut Ctx<'_>) -> Option<usize> {
        match e {
            ParseError::Incomplete => None,
            ParseError::Malformed(what) => {
                ctx.anomaly(at, side, what);
                self.finish();
                Some(rest)
            }
        }
    }
}

/// What one TSRequest says: the mechanism messages in its negoTokens, and its errorCode.
fn ts_request(side: Side, at: At, r: &TsRequest<'_>, ctx: &mut Ctx<'_>) {
    let nla = &mut ctx.facts.inside.nla;
    *side.of_mut(&mut nla.ts_requests) += 1;
    *side.of_mut(&mut nla.last_ts_request) = Some(at);
    nla.credssp_version.get_or_insert(r.version);
    let mut messages = Vec::new();
    for tok in &r.nego_tokens {
        let Ok(t) = spnego::parse_nego_token(tok) else { continue };
        match t.message {
            Some(AuthMessage::Ntlm(m)) => {
                nla.mechanism.get_or_insert(Mechanism::Ntlm);
                messages.push(m.name());
                if let NtlmMessage::Authenticate(a) = m {
                    nla.credentials = Some(at);
                    nla.user = Some(a.user);
                    nla.domain = Some(a.domain);
                    nla.workstation = Some(a.workstation);
                }
            }
            Some(AuthMessage::Kerberos(g)) => {
                let mech = if g.mech == KrbMech::UserToUser {
                    Mechanism::KerberosU2u
                } else {
                    Mechanism::Kerberos
                };
                if nla.mechanism != Some(Mechanism::KerberosU2u) {
                    nla.mechanism = Some(mech);
                }
                messages.push(g.message.name());
                kerberos(at, &g.message, nla);
            }
            Some(AuthMessage::KerberosRaw(m)) => {
                nla.mechanism.get_or_insert(Mechanism::Kerberos);
                messages.push(m.name());
                kerberos(at, &m, nla);
            }
            Some(AuthMessage::Other(_)) | None => {}
        }
    }
    if let Some(code) = r.error_code.filter(|c| *c != 0) {
        nla.error.get_or_insert((at, code));
    }
    ctx.event(
        at,
        side,
        EventKind::Inside(InsideEvent::TsRequest {
            version: r.version,
            messages,
            error: r.error_code.filter(|c| *c != 0),
        }),
    );
}

fn kerberos(at: At, m: &KrbMessage, nla: &mut crate::conn::inside_facts::NlaFacts) {
    if let KrbMessage::ApReq(ap) = m {
        nla.credentials = Some(at);
        nla.service = Some(ap.ticket_sname.clone());
        nla.realm = Some(ap.ticket_realm.clone());
    }
}

/// What one RDP PDU inside TLS adds to the facts and the timeline.
fn rdp_pdu(side: Side, at: At, pdu: RdpPdu, ctx: &mut Ctx<'_>) {
    let s = &mut ctx.facts.inside.session;
    let ev = match pdu {
        RdpPdu::ConnectInitial(ci) => {
            s.client_core = ci.client_core;
            s.channels = ci.channels;
            Some(InsideEvent::McsConnectInitial)
        }
        RdpPdu::ConnectResponse(cr) => {
            s.connect_response.get_or_insert((at, cr.result));
            Some(InsideEvent::McsConnectResponse { result: cr.result })
        }
        RdpPdu::DisconnectProviderUltimatum { reason } => {
            ctx.facts.ultimatum.get_or_insert((at, side, reason.code()));
            ctx.event(at, side, EventKind::DisconnectUltimatum { reason: reason.code() });
            None
        }
        RdpPdu::SendData { content, .. } => channel(at, side, content, s),
        _ => None,
    };
    if let Some(e) = ev {
        ctx.event(at, side, EventKind::Inside(e));
    }
}

fn channel(
    at: At,
    side: Side,
    content: ChannelContent,
    s: &mut crate::conn::inside_facts::SessionFacts,
) -> Option<InsideEvent> {
    match content {
        ChannelContent::ClientInfo(ci) => {
            s.client_info.get_or_insert((at, ci.user_name, ci.domain));
            Some(InsideEvent::ClientInfo)
        }
        ChannelContent::License(l) => {
            let outcome = match (l.msg_type, l.error) {
                (_, Some((LicenseErrorCode::ValidClient, _))) => Some(LicenseOutcome::ValidClient),
                (_, Some((code, st))) => Some(LicenseOutcome::Error(code, st)),
                (LicenseMsgType::NewLicense | LicenseMsgType::UpgradeLicense, None) => Some(LicenseOutcome::Issued),
                _ => None,
            };
            if let Some(o) = outcome {
                s.license = Some((at, o));
            }
            Some(InsideEvent::License {
                msg: l.msg_type,
                error: l.error,
            })
        }
        ChannelContent::Share(p) => share(at, side, p, s),
        _ => None,
    }
}

fn share(at: At, side: Side, p: SharePdu, s: &mut crate::conn::inside_facts::SessionFacts) -> Option<InsideEvent> {
    match p {
        SharePdu::DemandActive { .. } => {
            s.demand_active.get_or_insert(at);
            Some(InsideEvent::DemandActive)
        }
        SharePdu::ConfirmActive { .. } => {
            s.confirm_active.get_or_insert(at);
            Some(InsideEvent::ConfirmActive)
        }
        SharePdu::DeactivateAll { .. } => {
            s.deactivate_all.get_or_insert(at);
            Some(InsideEvent::DeactivateAll)
        }
        SharePdu::ServerRedirection(r) => {
            s.redirect.get_or_insert((at, r));
            Some(InsideEvent::Redirection)
        }
        SharePdu::Data { data, .. } => match data {
            DataPdu::SetErrorInfo(0) => None,
            DataPdu::SetErrorInfo(c) => {
                if s.error_info.len() < MAX_ERROR_INFOS {
                    s.error_info.push((at, c));
                }
                Some(InsideEvent::SetErrorInfo(c))
            }
            DataPdu::SaveSessionInfo(SessionInfo::Extended {
                logon_error: Some(e), ..
            }) => {
                if s.logon_errors.len() < MAX_ERROR_INFOS {
                    s.logon_errors.push((at, e));
                }
                Some(InsideEvent::LogonError(e))
            }
            DataPdu::SaveSessionInfo(si) => {
                let kind = si.name();
                if matches!(
                    si,
                    SessionInfo::Logon { .. } | SessionInfo::LogonLong { .. } | SessionInfo::PlainNotify
                ) {
                    s.logon.get_or_insert((at, kind));
                }
                Some(InsideEvent::SaveSessionInfo { kind })
            }
            DataPdu::ShutdownRequest => {
                s.shutdown.get_or_insert((at, side, false));
                Some(InsideEvent::Shutdown { denied: false })
            }
            DataPdu::ShutdownDenied => {
                s.shutdown = Some((at, side, true));
                Some(InsideEvent::Shutdown { denied: true })
            }
            _ => None,
        },
        _ => None,
    }
}
