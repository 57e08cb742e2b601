-- Real identities (CIS2, NHS login, other issuers) and people acting for the person.

-- Who vouched for each caller, what in their credential granted the role, how sure NHS login
-- was of the person, and whom a proxy acted for: an access is "by X on behalf of Y".
ALTER TABLE access_log
    ADD COLUMN issuer         text,
    ADD COLUMN credential     text,
    ADD COLUMN proofing_level text,
    ADD COLUMN on_behalf_of   text;

CREATE INDEX access_log_on_behalf_of ON access_log (on_behalf_of, at DESC)
    WHERE on_behalf_of IS NOT NULL;

-- Proxy access: who may act for a person, kept by the inline projection of each person's
-- `proxy_access` stream (grants, uses and revocations are events there). At most one active
-- grant per person and proxy.
CREATE TABLE proxy_grants (
    grant_id          uuid PRIMARY KEY,
    nhs_number        text NOT NULL,
    proxy_nhs_number  text NOT NULL,
    proxy_name        text NOT NULL,
    relationship      text NOT NULL,
    basis             text NOT NULL,
    granted_at        timestamptz NOT NULL,
    granted_by        text NOT NULL,
    granted_by_name   text,
    granted_by_role   text NOT NULL,
    revoked_at        timestamptz,
    revoked_by        text,
    revoked_reason    text,
    last_used_at      timestamptz,
    uses              bigint NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX proxy_grants_one_active ON proxy_grants (nhs_number, proxy_nhs_number)
    WHERE revoked_at IS NULL;
CREATE INDEX proxy_grants_person ON proxy_grants (nhs_number, granted_at DESC);
CREATE INDEX proxy_grants_proxy ON proxy_grants (proxy_nhs_number) WHERE revoked_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON proxy_grants TO ucp_app;
