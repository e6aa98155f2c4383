//! Names for the status codes a CredSSP `errorCode` (MS-CSSP 2.2.1, version 3+) or a
//! logon notification carries: NTSTATUS values (MS-ERREF 2.3.1) and the SSPI `SEC_E_*`
//! HRESULTs (MS-ERREF 2.1.1, winerror.h) that CredSSP servers also put there.
//!
//! An unknown code has no name (`None`): the caller prints it in hex.

/// One known code: its symbolic name and a one-line meaning for a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusInfo {
    pub code: u32,
    pub name: &'static str,
    pub meaning: &'static str,
}

const fn s(code: u32, name: &'static str, meaning: &'static str) -> StatusInfo {
    StatusInfo { code, name, meaning }
}

/// Sorted by code, so [`lookup`] can binary-search (checked by a test).
#[rustfmt::skip]
static TABLE: &[StatusInfo] = &[
    s(0x0000_0000, "STATUS_SUCCESS", "success"),
    s(0x0009_0312, "SEC_I_CONTINUE_NEEDED", "the security exchange goes on (another token is expected)"),
    s(0x8009_0300, "SEC_E_INSUFFICIENT_MEMORY", "not enough memory to complete the security request"),
    s(0x8009_0301, "SEC_E_INVALID_HANDLE", "the security handle is not valid"),
    s(0x8009_0302, "SEC_E_UNSUPPORTED_FUNCTION", "the requested security function is not supported (e.g. a CredSSP version or option the peer refuses)"),
    s(0x8009_0303, "SEC_E_TARGET_UNKNOWN", "the target (service principal) is unknown or unreachable"),
    s(0x8009_0304, "SEC_E_INTERNAL_ERROR", "the Local Security Authority could not be contacted"),
    s(0x8009_0305, "SEC_E_SECPKG_NOT_FOUND", "the requested security package does not exist"),
    s(0x8009_0306, "SEC_E_NOT_OWNER", "the caller is not the owner of the credentials"),
    s(0x8009_0307, "SEC_E_CANNOT_INSTALL", "the security package failed to initialize"),
    s(0x8009_0308, "SEC_E_INVALID_TOKEN", "the token supplied to the security function is invalid"),
    s(0x8009_0309, "SEC_E_CANNOT_PACK", "the security package could not marshal the logon buffer"),
    s(0x8009_030A, "SEC_E_QOP_NOT_SUPPORTED", "the per-message quality of protection is not supported"),
    s(0x8009_030B, "SEC_E_NO_IMPERSONATION", "the security context does not allow impersonation"),
    s(0x8009_030C, "SEC_E_LOGON_DENIED", "the logon attempt failed (bad user name or password)"),
    s(0x8009_030D, "SEC_E_UNKNOWN_CREDENTIALS", "the credentials supplied to the package were not recognized"),
    s(0x8009_030E, "SEC_E_NO_CREDENTIALS", "no credentials are available in the security package"),
    s(0x8009_030F, "SEC_E_MESSAGE_ALTERED", "the message or signature supplied for verification has been altered"),
    s(0x8009_0310, "SEC_E_OUT_OF_SEQUENCE", "the message supplied for verification is out of sequence"),
    s(0x8009_0311, "SEC_E_NO_AUTHENTICATING_AUTHORITY", "no authority (domain controller / KDC) could be contacted for authentication"),
    s(0x8009_0316, "SEC_E_BAD_PKGID", "the requested security package does not exist"),
    s(0x8009_0317, "SEC_E_CONTEXT_EXPIRED", "the security context has expired"),
    s(0x8009_0318, "SEC_E_INCOMPLETE_MESSAGE", "the supplied message is incomplete"),
    s(0x8009_0320, "SEC_E_INCOMPLETE_CREDENTIALS", "the supplied credentials are incomplete and could not be verified"),
    s(0x8009_0321, "SEC_E_BUFFER_TOO_SMALL", "the buffers supplied to a function were too small"),
    s(0x8009_0322, "SEC_E_WRONG_PRINCIPAL", "the target principal name is incorrect (SPN / host name mismatch)"),
    s(0x8009_0324, "SEC_E_TIME_SKEW", "the clocks on the client and server machines are skewed"),
    s(0x8009_0325, "SEC_E_UNTRUSTED_ROOT", "the certificate chain was issued by an untrusted authority"),
    s(0x8009_0326, "SEC_E_ILLEGAL_MESSAGE", "the message received was unexpected or badly formatted"),
    s(0x8009_0327, "SEC_E_CERT_UNKNOWN", "an unknown error occurred while processing the certificate"),
    s(0x8009_0328, "SEC_E_CERT_EXPIRED", "the received certificate has expired"),
    s(0x8009_0329, "SEC_E_ENCRYPT_FAILURE", "the specified data could not be encrypted"),
    s(0x8009_0330, "SEC_E_DECRYPT_FAILURE", "the specified data could not be decrypted"),
    s(0x8009_0331, "SEC_E_ALGORITHM_MISMATCH", "client and server cannot communicate: they have no algorithm in common"),
    s(0x8009_0332, "SEC_E_SECURITY_QOS_FAILED", "the security context could not be established due to a quality of service failure"),
    s(0x8009_0333, "SEC_E_UNFINISHED_CONTEXT_DELETED", "a security context was deleted before it was complete"),
    s(0x8009_0334, "SEC_E_NO_TGT_REPLY", "the client tried user-to-user Kerberos but did not get a TGT reply"),
    s(0x8009_0335, "SEC_E_NO_IP_ADDRESSES", "no IP addresses are available for the Kerberos request"),
    s(0x8009_0336, "SEC_E_WRONG_CREDENTIAL_HANDLE", "the supplied credential handle does not match the security context"),
    s(0x8009_0337, "SEC_E_CRYPTO_SYSTEM_INVALID", "the required cryptographic function is not available"),
    s(0x8009_0338, "SEC_E_MAX_REFERRALS_EXCEEDED", "the maximum number of Kerberos referrals was reached"),
    s(0x8009_0339, "SEC_E_MUST_BE_KDC", "the local machine must be a Kerberos KDC and it is not"),
    s(0x8009_033A, "SEC_E_STRONG_CRYPTO_NOT_SUPPORTED", "the other end requires strong cryptography, which is not supported locally"),
    s(0x8009_033B, "SEC_E_TOO_MANY_PRINCIPALS", "the KDC reply contained more than one principal name"),
    s(0x8009_033C, "SEC_E_NO_PA_DATA", "expected pre-authentication data hinting which credential to use was missing"),
    s(0x8009_033D, "SEC_E_PKINIT_NAME_MISMATCH", "the smart-card certificate's name does not match the user"),
    s(0x8009_033E, "SEC_E_SMARTCARD_LOGON_REQUIRED", "a smart card logon is required and was not used"),
    s(0x8009_033F, "SEC_E_SHUTDOWN_IN_PROGRESS", "a system shutdown is in progress"),
    s(0x8009_0340, "SEC_E_KDC_INVALID_REQUEST", "the KDC received an invalid request"),
    s(0x8009_0341, "SEC_E_KDC_UNABLE_TO_REFER", "the KDC could not generate a referral for the service"),
    s(0x8009_0342, "SEC_E_KDC_UNKNOWN_ETYPE", "the requested Kerberos encryption type is not supported by the KDC"),
    s(0x8009_0343, "SEC_E_UNSUPPORTED_PREAUTH", "an unsupported pre-authentication mechanism was presented to the Kerberos package"),
    s(0x8009_0345, "SEC_E_DELEGATION_REQUIRED", "the operation requires delegation to be enabled"),
    s(0x8009_0346, "SEC_E_BAD_BINDINGS", "the client's channel bindings were incorrect"),
    s(0x8009_0347, "SEC_E_MULTIPLE_ACCOUNTS", "the smart-card certificate maps to more than one account"),
    s(0x8009_0348, "SEC_E_NO_KERB_KEY", "no Kerberos key was found"),
    s(0x8009_0349, "SEC_E_CERT_WRONG_USAGE", "the certificate is not valid for the requested usage"),
    s(0x8009_0350, "SEC_E_DOWNGRADE_DETECTED", "a security downgrade was detected (possible attack): authentication refused"),
    s(0x8009_0351, "SEC_E_SMARTCARD_CERT_REVOKED", "the smart-card certificate has been revoked"),
    s(0x8009_0352, "SEC_E_ISSUING_CA_UNTRUSTED", "an untrusted certification authority issued the smart-card certificate"),
    s(0x8009_0353, "SEC_E_REVOCATION_OFFLINE_C", "the revocation status of the smart-card certificate could not be determined"),
    s(0x8009_0354, "SEC_E_PKINIT_CLIENT_FAILURE", "the smart-card certificate is not trusted"),
    s(0x8009_0355, "SEC_E_SMARTCARD_CERT_EXPIRED", "the smart-card certificate has expired"),
    s(0x8009_0356, "SEC_E_NO_S4U_PROT_SUPPORT", "the Kerberos subsystem reported an error (no S4U protocol support)"),
    s(0x8009_0357, "SEC_E_CROSSREALM_DELEGATION_FAILURE", "delegation across realms is not allowed"),
    s(0x8009_0358, "SEC_E_REVOCATION_OFFLINE_KDC", "the revocation status of the domain controller certificate could not be determined"),
    s(0x8009_0359, "SEC_E_ISSUING_CA_UNTRUSTED_KDC", "an untrusted certification authority issued the domain controller certificate"),
    s(0x8009_035A, "SEC_E_KDC_CERT_EXPIRED", "the domain controller certificate has expired"),
    s(0x8009_035B, "SEC_E_KDC_CERT_REVOKED", "the domain controller certificate has been revoked"),
    s(0x8009_035D, "SEC_E_INVALID_PARAMETER", "one or more parameters passed to the function were invalid"),
    s(0x8009_035E, "SEC_E_DELEGATION_POLICY", "the client policy does not allow credential delegation to the target server"),
    s(0x8009_035F, "SEC_E_POLICY_NLTM_ONLY", "the client policy does not allow delegating fresh credentials to a server authenticated with NTLM only"),
    s(0x8009_0361, "SEC_E_NO_CONTEXT", "the required security context does not exist"),
    s(0x8009_0362, "SEC_E_PKU2U_CERT_FAILURE", "the PKU2U protocol hit an error with the certificates"),
    s(0x8009_0363, "SEC_E_MUTUAL_AUTH_FAILED", "the identity of the server computer could not be verified"),
    s(0xC000_000D, "STATUS_INVALID_PARAMETER", "an invalid parameter was passed"),
    s(0xC000_0022, "STATUS_ACCESS_DENIED", "access denied"),
    s(0xC000_005E, "STATUS_NO_LOGON_SERVERS", "no logon servers (domain controllers) are available to service the logon request"),
    s(0xC000_0064, "STATUS_NO_SUCH_USER", "the user name does not exist"),
    s(0xC000_006A, "STATUS_WRONG_PASSWORD", "the password is wrong"),
    s(0xC000_006D, "STATUS_LOGON_FAILURE", "the logon failed: unknown user name or bad password"),
    s(0xC000_006E, "STATUS_ACCOUNT_RESTRICTION", "the account has a restriction that prevents this logon (e.g. Protected Users may not use NTLM, blank password not allowed)"),
    s(0xC000_006F, "STATUS_INVALID_LOGON_HOURS", "the account may not log on at this time of day"),
    s(0xC000_0070, "STATUS_INVALID_WORKSTATION", "the account may not log on from this workstation"),
    s(0xC000_0071, "STATUS_PASSWORD_EXPIRED", "the password has expired"),
    s(0xC000_0072, "STATUS_ACCOUNT_DISABLED", "the account is disabled"),
    s(0xC000_009A, "STATUS_INSUFFICIENT_RESOURCES", "insufficient system resources to complete the request"),
    s(0xC000_00BB, "STATUS_NOT_SUPPORTED", "the request is not supported"),
    s(0xC000_0133, "STATUS_TIME_DIFFERENCE_AT_DC", "the clock of the domain controller differs too much from this machine's"),
    s(0xC000_015B, "STATUS_LOGON_TYPE_NOT_GRANTED", "the user has not been granted this logon type (e.g. not in Remote Desktop Users / 'Allow log on through Remote Desktop Services')"),
    s(0xC000_018B, "STATUS_NO_TRUST_SAM_ACCOUNT", "the server has no computer account for this trust relationship"),
    s(0xC000_0192, "STATUS_NETLOGON_NOT_STARTED", "the Netlogon service is not started"),
    s(0xC000_0193, "STATUS_ACCOUNT_EXPIRED", "the account has expired"),
    s(0xC000_0198, "STATUS_NOLOGON_INTERDOMAIN_TRUST_ACCOUNT", "the account is an interdomain trust account, which may not log on"),
    s(0xC000_0199, "STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT", "the account is a computer account, which may not log on"),
    s(0xC000_019A, "STATUS_NOLOGON_SERVER_TRUST_ACCOUNT", "the account is a server trust account, which may not log on"),
    s(0xC000_0203, "STATUS_USER_SESSION_DELETED", "the remote user session has been deleted"),
    s(0xC000_0224, "STATUS_PASSWORD_MUST_CHANGE", "the password must be changed before the first logon"),
    s(0xC000_0234, "STATUS_ACCOUNT_LOCKED_OUT", "the account is locked out after too many bad passwords"),
    s(0xC000_0388, "STATUS_DOWNGRADE_DETECTED", "a security downgrade was detected: authentication refused"),
];

/// The known code, if any.
pub fn lookup(code: u32) -> Option<&'static StatusInfo> {
    super::by_code(TABLE, code, |e| e.code)
}

/// Symbolic name, e.g. `STATUS_LOGON_FAILURE`; `None` for an unknown code.
pub fn name(code: u32) -> Option<&'static str> {
    lookup(code).map(|e| e.name)
}

/// One-line meaning for a report; `None` for an unknown code.
pub fn meaning(code: u32) -> Option<&'static str> {
    lookup(code).map(|e| e.meaning)
}

/// Every known code, for documentation and tests.
pub fn all() -> &'static [StatusInfo] {
    TABLE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_unique() {
        assert!(TABLE.windows(2).all(|w| w[0].code < w[1].code));
        assert!(TABLE.iter().all(|e| !e.meaning.is_empty() && e.name.len() > 5));
    }

    #[test]
    fn names() {
        assert_eq!(name(0xC000_006E), Some("STATUS_ACCOUNT_RESTRICTION"));
        assert_eq!(name(0xC000_006D), Some("STATUS_LOGON_FAILURE"));
        assert_eq!(name(0x8009_030C), Some("SEC_E_LOGON_DENIED"));
        assert_eq!(name(0x8009_035E), Some("SEC_E_DELEGATION_POLICY"));
        assert_eq!(name(0xDEAD_BEEF), None);
        assert!(meaning(0xC000_0234).is_some_and(|m| m.contains("locked")));
    }
}
