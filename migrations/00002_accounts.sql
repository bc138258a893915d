-- +goose Up
CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL,
    password_hash  text NOT NULL,
    display_name   text NOT NULL,
    role           text NOT NULL DEFAULT 'member'
                   CHECK (role IN ('member', 'partner', 'moderator', 'marketer', 'admin')),
    -- partner staff belong to exactly one company; nobody else belongs to one.
    partner_id     bigint REFERENCES partner_companies (id),
    locale         text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_partner_role CHECK ((role = 'partner') = (partner_id IS NOT NULL))
);
-- e-mail addresses are unique whatever their case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Refresh tokens are stored only as SHA-256 hashes. Each login starts a family; every
-- refresh rotates to a new token in the same family, and presenting a rotated token
-- again (reuse: a sign of theft) revokes the whole family.
CREATE TABLE refresh_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id    uuid NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    rotated_at   timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Fixed-window counters shared by every `hearth serve` instance (login attempts per
-- account and per address). Old windows are deleted by the worker.
CREATE TABLE rate_limits (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (key, window_start)
);

-- +goose Down
DROP TABLE rate_limits;
DROP TABLE refresh_tokens;
DROP TABLE users;
