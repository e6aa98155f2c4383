//! The `errorInfo` codes of the Set Error Info PDU (MS-RDPBCGR 2.2.5.1.1): why the server
//! is about to end the connection. The table holds every code of that section (the
//! protocol-independent, licensing, Connection Broker and RDP-specific groups), checked
//! against FreeRDP's `include/freerdp/error.h` and IronRDP's `server_error_info.rs`;
//! meanings are shortened from the specification's text.
//!
//! An unknown code has no entry (`None`): the caller prints it in hex.

/// Who ended the session, as far as the code tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// ERRINFO_NONE: no error.
    None,
    /// The user ended it from inside the session (disconnect or log off).
    UserInitiated,
    /// An administrator (a tool in another session) disconnected or logged off the session.
    Administrative,
    /// A server policy ended it (idle or active-session time limit, another connection).
    ServerPolicy,
    /// The server refused the user (denied, insufficient privileges, fresh credentials needed).
    Denied,
    /// A server component failed (out of memory, display driver, DWM, Winlogon, CSRSS).
    ServerFailure,
    /// Licensing (0x100–0x10A).
    Licensing,
    /// Connection Broker (0x400–0x412).
    ConnectionBroker,
    /// RDP protocol error detected by the server (0x10C9 and up).
    Protocol,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::UserInitiated => "user-initiated",
            Self::Administrative => "administrative",
            Self::ServerPolicy => "server policy",
            Self::Denied => "denied by server",
            Self::ServerFailure => "server failure",
            Self::Licensing => "licensing",
            Self::ConnectionBroker => "connection broker",
            Self::Protocol => "protocol error",
        }
    }

    /// Whether the user ended the session (everything else ended on the server's side).
    pub fn user_initiated(self) -> bool {
        self == Self::UserInitiated
    }
}

/// One `errorInfo` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    pub code: u32,
    pub name: &'static str,
    pub meaning: &'static str,
    pub category: Category,
}

use Category::{
    Administrative as Adm, ConnectionBroker as Cb, Denied as Den, Licensing as Lic, None as Nil, Protocol as Pro,
    ServerFailure as Fail, ServerPolicy as Pol, UserInitiated as Usr,
};

const fn e(code: u32, name: &'static str, category: Category, meaning: &'static str) -> ErrorInfo {
    ErrorInfo {
        code,
        name,
        meaning,
        category,
    }
}

/// Sorted by code (checked by a test) for a binary search.
#[rustfmt::skip]
static TABLE: &[ErrorInfo] = &[
    e(0x0000, "ERRINFO_NONE", Nil, "no error"),
    e(0x0001, "ERRINFO_RPC_INITIATED_DISCONNECT", Adm, "disconnected by an administrative tool on the server in another session"),
    e(0x0002, "ERRINFO_RPC_INITIATED_LOGOFF", Adm, "forced logoff by an administrative tool on the server in another session"),
    e(0x0003, "ERRINFO_IDLE_TIMEOUT", Pol, "the server's idle session time limit elapsed"),
    e(0x0004, "ERRINFO_LOGON_TIMEOUT", Pol, "the server's active session time limit elapsed"),
    e(0x0005, "ERRINFO_DISCONNECTED_BY_OTHERCONNECTION", Pol, "another connection took over the session"),
    e(0x0006, "ERRINFO_OUT_OF_MEMORY", Fail, "the server ran out of memory"),
    e(0x0007, "ERRINFO_SERVER_DENIED_CONNECTION", Den, "the server denied the connection"),
    e(0x0009, "ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES", Den, "the user has insufficient access privileges to connect"),
    e(0x000A, "ERRINFO_SERVER_FRESH_CREDENTIALS_REQUIRED", Den, "the server does not accept saved credentials: the user must type them"),
    e(0x000B, "ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER", Usr, "disconnected by the user from inside the session (e.g. Start > Disconnect)"),
    e(0x000C, "ERRINFO_LOGOFF_BY_USER", Usr, "the user logged off"),
    e(0x000F, "ERRINFO_CLOSE_STACK_ON_DRIVER_NOT_READY", Fail, "the session's display driver did not report ready in time"),
    e(0x0010, "ERRINFO_SERVER_DWM_CRASH", Fail, "the DWM process of the session terminated unexpectedly"),
    e(0x0011, "ERRINFO_CLOSE_STACK_ON_DRIVER_FAILURE", Fail, "the session's display driver failed to start"),
    e(0x0012, "ERRINFO_CLOSE_STACK_ON_DRIVER_IFACE_FAILURE", Fail, "the session's display driver started but was not usable"),
    e(0x0017, "ERRINFO_SERVER_WINLOGON_CRASH", Fail, "the Winlogon process of the session terminated unexpectedly"),
    e(0x0018, "ERRINFO_SERVER_CSRSS_CRASH", Fail, "the CSRSS process of the session terminated unexpectedly"),
    e(0x0100, "ERRINFO_LICENSE_INTERNAL", Lic, "internal error in the licensing component"),
    e(0x0101, "ERRINFO_LICENSE_NO_LICENSE_SERVER", Lic, "no Remote Desktop License Server could be found"),
    e(0x0102, "ERRINFO_LICENSE_NO_LICENSE", Lic, "no Client Access Licenses are available"),
    e(0x0103, "ERRINFO_LICENSE_BAD_CLIENT_MSG", Lic, "the server received an invalid licensing message"),
    e(0x0104, "ERRINFO_LICENSE_HWID_DOESNT_MATCH_LICENSE", Lic, "the client's stored license has been modified"),
    e(0x0105, "ERRINFO_LICENSE_BAD_CLIENT_LICENSE", Lic, "the client's stored license is in an invalid format"),
    e(0x0106, "ERRINFO_LICENSE_CANT_FINISH_PROTOCOL", Lic, "network problems ended the licensing protocol"),
    e(0x0107, "ERRINFO_LICENSE_CLIENT_ENDED_PROTOCOL", Lic, "the client ended the licensing protocol prematurely"),
    e(0x0108, "ERRINFO_LICENSE_BAD_CLIENT_ENCRYPTION", Lic, "a licensing message was incorrectly encrypted"),
    e(0x0109, "ERRINFO_LICENSE_CANT_UPGRADE_LICENSE", Lic, "the client's license could not be upgraded or renewed"),
    e(0x010A, "ERRINFO_LICENSE_NO_REMOTE_CONNECTIONS", Lic, "the server is not licensed to accept remote connections"),
    e(0x0400, "ERRINFO_CB_DESTINATION_NOT_FOUND", Cb, "the target endpoint could not be found"),
    e(0x0402, "ERRINFO_CB_LOADING_DESTINATION", Cb, "the target endpoint is disconnecting from the Connection Broker"),
    e(0x0404, "ERRINFO_CB_REDIRECTING_TO_DESTINATION", Cb, "an error occurred while redirecting to the target endpoint"),
    e(0x0405, "ERRINFO_CB_SESSION_ONLINE_VM_WAKE", Cb, "an error occurred while waking the target virtual machine"),
    e(0x0406, "ERRINFO_CB_SESSION_ONLINE_VM_BOOT", Cb, "an error occurred while starting the target virtual machine"),
    e(0x0407, "ERRINFO_CB_SESSION_ONLINE_VM_NO_DNS", Cb, "the IP address of the target virtual machine cannot be determined"),
    e(0x0408, "ERRINFO_CB_DESTINATION_POOL_NOT_FREE", Cb, "no endpoint is available in the pool"),
    e(0x0409, "ERRINFO_CB_CONNECTION_CANCELLED", Cb, "processing of the connection was canceled"),
    e(0x0410, "ERRINFO_CB_CONNECTION_ERROR_INVALID_SETTINGS", Cb, "the routing token of the X.224 Connection Request could not be validated"),
    e(0x0411, "ERRINFO_CB_SESSION_ONLINE_VM_BOOT_TIMEOUT", Cb, "timed out starting the target virtual machine"),
    e(0x0412, "ERRINFO_CB_SESSION_ONLINE_VM_SESSMON_FAILED", Cb, "session monitoring failed while starting the target virtual machine"),
    e(0x10C9, "ERRINFO_UNKNOWN_PDUTYPE2", Pro, "unknown pduType2 in a Share Data Header"),
    e(0x10CA, "ERRINFO_UNKNOWN_PDUTYPE", Pro, "unknown pduType in a Share Control Header"),
    e(0x10CB, "ERRINFO_DATAPDUSEQUENCE", Pro, "out-of-sequence slow-path Data PDU"),
    e(0x10CD, "ERRINFO_CONTROLPDUSEQUENCE", Pro, "out-of-sequence slow-path non-Data PDU"),
    e(0x10CE, "ERRINFO_INVALIDCONTROLPDUACTION", Pro, "Control PDU with an invalid action"),
    e(0x10CF, "ERRINFO_INVALIDINPUTPDUTYPE", Pro, "input event with an invalid message type or event code"),
    e(0x10D0, "ERRINFO_INVALIDINPUTPDUMOUSE", Pro, "mouse event with invalid pointer flags"),
    e(0x10D1, "ERRINFO_INVALIDREFRESHRECTPDU", Pro, "invalid Refresh Rect PDU"),
    e(0x10D2, "ERRINFO_CREATEUSERDATAFAILED", Pro, "the server failed to build the GCC Conference Create Response user data"),
    e(0x10D3, "ERRINFO_CONNECTFAILED", Pro, "the Channel Connection phase failed"),
    e(0x10D4, "ERRINFO_CONFIRMACTIVEWRONGSHAREID", Pro, "Confirm Active PDU with a wrong shareID"),
    e(0x10D5, "ERRINFO_CONFIRMACTIVEWRONGORIGINATOR", Pro, "Confirm Active PDU with a wrong originatorID"),
    e(0x10DA, "ERRINFO_PERSISTENTKEYPDUBADLENGTH", Pro, "Persistent Key List PDU too short"),
    e(0x10DB, "ERRINFO_PERSISTENTKEYPDUILLEGALFIRST", Pro, "second Persistent Key List PDU marked PERSIST_PDU_FIRST"),
    e(0x10DC, "ERRINFO_PERSISTENTKEYPDUTOOMANYTOTALKEYS", Pro, "Persistent Key List PDU with more than 262144 total entries"),
    e(0x10DD, "ERRINFO_PERSISTENTKEYPDUTOOMANYCACHEKEYS", Pro, "Persistent Key List PDU with too many keys for a bitmap cache"),
    e(0x10DE, "ERRINFO_INPUTPDUBADLENGTH", Pro, "input PDU too short"),
    e(0x10DF, "ERRINFO_BITMAPCACHEERRORPDUBADLENGTH", Pro, "Bitmap Cache Error PDU too short"),
    e(0x10E0, "ERRINFO_SECURITYDATATOOSHORT", Pro, "fast-path input dataSignature (or FIPS information) too short"),
    e(0x10E1, "ERRINFO_VCHANNELDATATOOSHORT", Pro, "virtual channel data (network data or Channel PDU Header) too short"),
    e(0x10E2, "ERRINFO_SHAREDATATOOSHORT", Pro, "Share Control/Data header, Control or Font List PDU too short"),
    e(0x10E3, "ERRINFO_BADSUPPRESSOUTPUTPDU", Pro, "invalid Suppress Output PDU"),
    e(0x10E5, "ERRINFO_CONFIRMACTIVEPDUTOOSHORT", Pro, "Confirm Active PDU too short"),
    e(0x10E7, "ERRINFO_CAPABILITYSETTOOSMALL", Pro, "capability set header too short"),
    e(0x10E8, "ERRINFO_CAPABILITYSETTOOLARGE", Pro, "capability set longer than the data received"),
    e(0x10E9, "ERRINFO_NOCURSORCACHE", Pro, "pointer capability set with no cursor cache"),
    e(0x10EA, "ERRINFO_BADCAPABILITIES", Pro, "the client's capabilities were not accepted"),
    e(0x10EC, "ERRINFO_VIRTUALCHANNELDECOMPRESSIONERR", Pro, "virtual channel bulk decompression failed"),
    e(0x10ED, "ERRINFO_INVALIDVCCOMPRESSIONTYPE", Pro, "invalid bulk compression type in a Channel PDU Header"),
    e(0x10EF, "ERRINFO_INVALIDCHANNELID", Pro, "invalid MCS channel ID in a Virtual Channel PDU"),
    e(0x10F0, "ERRINFO_VCHANNELSTOOMANY", Pro, "the client requested more than 31 static virtual channels"),
    e(0x10F3, "ERRINFO_REMOTEAPPSNOTENABLED", Pro, "the server only hosts RemoteApp programs and INFO_RAIL was not set"),
    e(0x10F4, "ERRINFO_CACHECAPNOTSET", Pro, "Persistent Key List PDU without the Revision 2 Bitmap Cache capability"),
    e(0x10F5, "ERRINFO_BITMAPCACHEERRORPDUBADLENGTH2", Pro, "Bitmap Cache Error PDU NumInfoBlocks inconsistent with its data"),
    e(0x10F6, "ERRINFO_OFFSCRCACHEERRORPDUBADLENGTH", Pro, "Offscreen Bitmap Cache Error PDU too short"),
    e(0x10F7, "ERRINFO_DNGCACHEERRORPDUBADLENGTH", Pro, "DrawNineGrid Cache Error PDU too short"),
    e(0x10F8, "ERRINFO_GDIPLUSPDUBADLENGTH", Pro, "GDI+ Error PDU too short"),
    e(0x1111, "ERRINFO_SECURITYDATATOOSHORT2", Pro, "Basic Security Header too short"),
    e(0x1112, "ERRINFO_SECURITYDATATOOSHORT3", Pro, "Non-FIPS or FIPS Security Header too short"),
    e(0x1113, "ERRINFO_SECURITYDATATOOSHORT4", Pro, "Security Exchange PDU too short"),
    e(0x1114, "ERRINFO_SECURITYDATATOOSHORT5", Pro, "Info Packet fields and strings too short"),
    e(0x1115, "ERRINFO_SECURITYDATATOOSHORT6", Pro, "Info Packet fixed fields too short"),
    e(0x1116, "ERRINFO_SECURITYDATATOOSHORT7", Pro, "Extended Info Packet clientAddressFamily/cbClientAddress too short"),
    e(0x1117, "ERRINFO_SECURITYDATATOOSHORT8", Pro, "Extended Info Packet clientAddress too short"),
    e(0x1118, "ERRINFO_SECURITYDATATOOSHORT9", Pro, "Extended Info Packet cbClientDir too short"),
    e(0x1119, "ERRINFO_SECURITYDATATOOSHORT10", Pro, "Extended Info Packet clientDir too short"),
    e(0x111A, "ERRINFO_SECURITYDATATOOSHORT11", Pro, "Extended Info Packet clientTimeZone too short"),
    e(0x111B, "ERRINFO_SECURITYDATATOOSHORT12", Pro, "Extended Info Packet clientSessionId too short"),
    e(0x111C, "ERRINFO_SECURITYDATATOOSHORT13", Pro, "Extended Info Packet performanceFlags too short"),
    e(0x111D, "ERRINFO_SECURITYDATATOOSHORT14", Pro, "Extended Info Packet cbAutoReconnectCookie too short"),
    e(0x111E, "ERRINFO_SECURITYDATATOOSHORT15", Pro, "Extended Info Packet autoReconnectCookie too short"),
    e(0x111F, "ERRINFO_SECURITYDATATOOSHORT16", Pro, "Extended Info Packet cbAutoReconnectCookie larger than 128 bytes"),
    e(0x1120, "ERRINFO_SECURITYDATATOOSHORT17", Pro, "Extended Info Packet clientAddressFamily/cbClientAddress too short"),
    e(0x1121, "ERRINFO_SECURITYDATATOOSHORT18", Pro, "Extended Info Packet clientAddress too short"),
    e(0x1122, "ERRINFO_SECURITYDATATOOSHORT19", Pro, "Extended Info Packet cbClientDir too short"),
    e(0x1123, "ERRINFO_SECURITYDATATOOSHORT20", Pro, "Extended Info Packet clientDir too short"),
    e(0x1124, "ERRINFO_SECURITYDATATOOSHORT21", Pro, "Extended Info Packet clientTimeZone too short"),
    e(0x1125, "ERRINFO_SECURITYDATATOOSHORT22", Pro, "Extended Info Packet clientSessionId too short"),
    e(0x1126, "ERRINFO_SECURITYDATATOOSHORT23", Pro, "Client Info PDU too short"),
    e(0x1129, "ERRINFO_BADMONITORDATA", Pro, "Client Monitor Data has fewer monitors than monitorCount"),
    e(0x112A, "ERRINFO_VCDECOMPRESSEDREASSEMBLEFAILED", Pro, "decompressed virtual channel data exceeds the chunk size"),
    e(0x112B, "ERRINFO_VCDATATOOLONG", Pro, "Virtual Channel PDU larger than the chunk size"),
    e(0x112C, "ERRINFO_BAD_FRAME_ACK_DATA", Pro, "TS_FRAME_ACKNOWLEDGE_PDU too short"),
    e(0x112D, "ERRINFO_GRAPHICSMODENOTSUPPORTED", Pro, "the requested graphics mode is not supported by the server"),
    e(0x112E, "ERRINFO_GRAPHICSSUBSYSTEMRESETFAILED", Pro, "the server graphics subsystem failed to reset"),
    e(0x112F, "ERRINFO_GRAPHICSSUBSYSTEMFAILED", Pro, "the server graphics subsystem is in an error state"),
    e(0x1130, "ERRINFO_TIMEZONEKEYNAMELENGTHTOOSHORT", Pro, "Extended Info Packet cbDynamicDSTTimeZoneKeyName too short"),
    e(0x1131, "ERRINFO_TIMEZONEKEYNAMELENGTHTOOLONG", Pro, "Extended Info Packet cbDynamicDSTTimeZoneKeyName too long"),
    e(0x1132, "ERRINFO_DYNAMICDSTDISABLEDFIELDMISSING", Pro, "Extended Info Packet dynamicDaylightTimeDisabled missing"),
    e(0x1133, "ERRINFO_VCDECODINGERROR", Pro, "error processing dynamic virtual channel data"),
    e(0x1134, "ERRINFO_VIRTUALDESKTOPTOOLARGE", Pro, "the virtual desktop is larger than 32766 pixels"),
    e(0x1135, "ERRINFO_MONITORGEOMETRYVALIDATIONFAILED", Pro, "invalid monitor geometry in the Client Monitor Data"),
    e(0x1136, "ERRINFO_INVALIDMONITORCOUNT", Pro, "monitorCount in the Client Monitor Data is too large"),
    e(0x1191, "ERRINFO_UPDATESESSIONKEYFAILED", Pro, "Standard RDP Security session key update failed"),
    e(0x1192, "ERRINFO_DECRYPTFAILED", Pro, "Standard RDP Security decryption (or session key creation) failed"),
    e(0x1193, "ERRINFO_ENCRYPTFAILED", Pro, "Standard RDP Security encryption failed"),
    e(0x1194, "ERRINFO_ENCPKGMISMATCH", Pro, "no usable encryption method in the Client Security Data"),
    e(0x1195, "ERRINFO_DECRYPTFAILED2", Pro, "unencrypted data in a stream that Standard RDP Security should encrypt"),
];

/// The known code, if any.
pub fn lookup(code: u32) -> Option<&'static ErrorInfo> {
    super::by_code(TABLE, code, |e| e.code)
}

/// Symbolic name, e.g. `ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER`; `None` if unknown.
pub fn name(code: u32) -> Option<&'static str> {
    lookup(code).map(|e| e.name)
}

/// One-line meaning for a report; `None` if unknown.
pub fn meaning(code: u32) -> Option<&'static str> {
    lookup(code).map(|e| e.meaning)
}

/// Category of a code; unknown codes in the RDP-specific range count as protocol errors,
/// other unknown codes have none.
pub fn category(code: u32) -> Option<Category> {
    lookup(code).map(|e| e.category).or(match code {
        0x0100..=0x01FF => Some(Category::Licensing),
        0x0400..=0x04FF => Some(Category::ConnectionBroker),
        0x10C9..=0x11FF => Some(Category::Protocol),
        _ => None,
    })
}

/// Every known code, for documentation and tests.
pub fn all() -> &'static [ErrorInfo] {
    TABLE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        assert!(TABLE.windows(2).all(|w| w[0].code < w[1].code));
        // 18 protocol-independent + 11 licensing + 11 broker + 77 RDP-specific.
        assert_eq!(TABLE.len(), 118);
        assert!(TABLE
            .iter()
            .all(|e| e.name.starts_with("ERRINFO_") && !e.meaning.is_empty()));
    }

    #[test]
    fn names_and_categories() {
        assert_eq!(name(0xB), Some("ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER"));
        assert!(category(0xB).is_some_and(Category::user_initiated));
        assert_eq!(category(0x1), Some(Category::Administrative));
        assert_eq!(name(0x7), Some("ERRINFO_SERVER_DENIED_CONNECTION"));
        assert_eq!(category(0x7), Some(Category::Denied));
        assert_eq!(name(0x10A), Some("ERRINFO_LICENSE_NO_REMOTE_CONNECTIONS"));
        assert_eq!(name(0x10C9), Some("ERRINFO_UNKNOWN_PDUTYPE2"));
        assert_eq!(name(0x8), None);
        assert_eq!(category(0x10CC), Some(Category::Protocol));
        assert_eq!(category(0x9999), None);
    }
}
