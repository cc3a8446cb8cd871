#ifndef CREDITWATCH_CHIREDIS_SHIM_H
#define CREDITWATCH_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <hiredis/hiredis_ssl.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/// A TLS client context (TLS 1.2 or later) that verifies the server's certificate against
/// `ca_file` (NULL: the system's CAs), with a client certificate when `cert_file` and `key_file`
/// are given. NULL when a file cannot be read or does not fit.
static inline SSL_CTX *cw_tls_context(const char *ca_file, const char *cert_file, const char *key_file) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    if (ok == 1 && cert_file) ok = SSL_CTX_use_certificate_chain_file(ctx, cert_file);
    if (ok == 1 && key_file) ok = SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM);
    if (ok == 1 && cert_file) ok = SSL_CTX_check_private_key(ctx);
    if (ok != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/// Starts TLS on a connected hiredis context. Unlike hiredis' own helper, the certificate must
/// also name `host` (a DNS name, or an IP address in its subjectAltName). REDIS_OK, or REDIS_ERR
/// with the reason in c->errstr.
static inline int cw_redis_start_tls(redisContext *c, SSL_CTX *ctx, const char *host) {
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL) return REDIS_ERR;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) {
        SSL_set_tlsext_host_name(ssl, host);
        X509_VERIFY_PARAM_set1_host(param, host, 0);
    }
    if (redisInitiateSSL(c, ssl) != REDIS_OK) {
        SSL_free(ssl);  // not taken by hiredis when the handshake fails
        return REDIS_ERR;
    }
    return REDIS_OK;
}

#endif
