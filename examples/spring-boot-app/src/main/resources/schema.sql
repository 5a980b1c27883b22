CREATE TABLE IF NOT EXISTS orders (
  id           bigserial PRIMARY KEY,
  email        text        NOT NULL,
  amount_cents bigint      NOT NULL CHECK (amount_cents > 0),
  created_at   timestamptz NOT NULL DEFAULT now(),
  confirmed_at timestamptz
);
