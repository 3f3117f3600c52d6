-- SQLite through sqlx's Any driver: integers are INTEGER, flags are INTEGER 0/1,
-- timestamps are fixed-width RFC 3339 UTC text, money and measures integer hundredths.
CREATE TABLE members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_lower TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    username_lower TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    user_type TEXT NOT NULL CHECK (user_type IN ('artist', 'collector')),
    address TEXT NOT NULL,
    postcode TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    website TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    token_generation INTEGER NOT NULL DEFAULT 0,
    is_staff INTEGER NOT NULL DEFAULT 0 CHECK (is_staff IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE galleries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    curator_id INTEGER NOT NULL UNIQUE REFERENCES members (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);

CREATE TABLE artworks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    artist_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    year INTEGER NOT NULL,
    price_pence INTEGER NOT NULL CHECK (price_pence > 0),
    quantity_for_sale INTEGER NOT NULL CHECK (quantity_for_sale >= 0),
    -- What the artist last set; is_for_sale is that and quantity_for_sale > 0.
    listed INTEGER NOT NULL CHECK (listed IN (0, 1)),
    is_for_sale INTEGER NOT NULL CHECK (is_for_sale IN (0, 1)),
    medium TEXT NOT NULL,
    material TEXT NOT NULL,
    width_hundredths INTEGER NOT NULL,
    depth_hundredths INTEGER NOT NULL,
    height_hundredths INTEGER NOT NULL,
    weight_hundredths INTEGER NOT NULL,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (quantity_for_sale > 0 OR is_for_sale = 0)
);
CREATE INDEX artworks_artist ON artworks (artist_id, created_at);
CREATE INDEX artworks_created ON artworks (created_at);

CREATE TABLE artwork_images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    artwork_id INTEGER NOT NULL REFERENCES artworks (id) ON DELETE CASCADE,
    image_url TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX artwork_images_artwork ON artwork_images (artwork_id, position);

CREATE TABLE gallery_artworks (
    gallery_id INTEGER NOT NULL REFERENCES galleries (id) ON DELETE CASCADE,
    artwork_id INTEGER NOT NULL REFERENCES artworks (id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (gallery_id, artwork_id)
);
CREATE INDEX gallery_artworks_artwork ON gallery_artworks (artwork_id);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    buyer_id INTEGER NOT NULL REFERENCES members (id),
    seller_id INTEGER NOT NULL REFERENCES members (id),
    artwork_id INTEGER NOT NULL REFERENCES artworks (id),
    price_pence INTEGER NOT NULL CHECK (price_pence > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'ready to ship', 'shipped', 'completed', 'cancelled')),
    viewed_by_buyer INTEGER NOT NULL CHECK (viewed_by_buyer IN (0, 1)),
    viewed_by_seller INTEGER NOT NULL CHECK (viewed_by_seller IN (0, 1)),
    shipped_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX orders_buyer ON orders (buyer_id, created_at);
CREATE INDEX orders_seller ON orders (seller_id, created_at);
CREATE INDEX orders_artwork_status ON orders (artwork_id, status);
CREATE INDEX orders_shipped ON orders (status, shipped_at);
-- A buyer has at most one open order per artwork, even under concurrent requests.
CREATE UNIQUE INDEX orders_one_open_per_buyer ON orders (buyer_id, artwork_id)
    WHERE status IN ('pending', 'accepted');

CREATE TABLE order_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL CHECK (actor IN ('buyer', 'seller', 'system')),
    actor_id INTEGER REFERENCES members (id) ON DELETE SET NULL,
    reason TEXT,
    at TEXT NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);
