// The catalogue of PII trait names: which keys hold an e-mail, a phone number, a person's name, a birthday
// or an address, however a client spells them. Keys are compared after normalizeKey (accents, case and
// every separator dropped: `Phone_Number`, `phoneNumber`, `phone-number`, `phone number` are one name),
// with trailing digits ignored (`email2`, `address_line_1`). A key is of a kind when it is an alias of the
// kind, or an alias with up to two qualifiers before or after it (`contact_email`, `email_work`,
// `emergency_contact_phone`). Qualifiers of the customer themselves (OWN_QUALIFIERS) keep an e-mail or
// phone an identifier of the customer; qualifiers that name someone else (OTHER_QUALIFIERS: a referrer,
// a spouse, an emergency contact) are protected the same but never identify the customer.
//
// The lists are deliberately explicit (docs/pii.md prints them): an open suffix rule would take
// `iphone`, `smartphone` or `company_name` for PII. Values that escape the catalogue are still caught by
// shape when they are e-mail addresses or phone numbers (lib/pii/detect.ts).

export type PiiKind = 'email' | 'phone' | 'name' | 'birthday' | 'address';

/** The aliases of each kind, in snake_case words (how docs/pii.md and the tests spell them). */
export const CATALOGUE: Readonly<Record<PiiKind, readonly string[]>> = {
  email: ['email', 'e_mail', 'mail', 'email_address', 'e_mail_address', 'email_id', 'courriel', 'correo'],
  phone: [
    'phone',
    'phone_number',
    'phone_no',
    'mobile',
    'mobile_number',
    'mobile_phone',
    'mobile_phone_number',
    'cell',
    'cell_number',
    'cell_phone',
    'cellphone',
    'tel',
    'tel_no',
    'telephone',
    'telephone_number',
    'msisdn',
    'whatsapp',
    'whatsapp_number',
    'fax',
    'fax_number',
    'telefon',
    'telefono',
    'celular',
    'portable',
  ],
  name: [
    'name',
    'full_name',
    'first_name',
    'last_name',
    'middle_name',
    'given_name',
    'family_name',
    'maiden_name',
    'surname',
    'forename',
    'fname',
    'lname',
    'nom',
    'prenom',
    'vorname',
    'nachname',
    'nombre',
    'apellido',
  ],
  birthday: ['birthday', 'birth_date', 'birthdate', 'date_of_birth', 'dob', 'birth_day', 'geburtsdatum'],
  address: [
    'address',
    'street',
    'street_address',
    'address_line',
    'postal_code',
    'postcode',
    'post_code',
    'zip',
    'zip_code',
    'zipcode',
    'postal_address',
    'adresse',
    'direccion',
  ],
};

/** Qualifiers that leave the value the customer's own: `contact_email`, `work_phone`, `user_name`. */
export const OWN_QUALIFIERS: readonly string[] = [
  'contact',
  'user',
  'customer',
  'client',
  'member',
  'account',
  'my',
  'primary',
  'secondary',
  'alternate',
  'alt',
  'other',
  'personal',
  'private',
  'work',
  'home',
  'main',
  'billing',
  'shipping',
  'delivery',
  'mailing',
  'postal',
  'login',
  'full',
];

/** Qualifiers that name someone else: protected, but never an identifier of the customer. */
export const OTHER_QUALIFIERS: readonly string[] = [
  'emergency',
  'guardian',
  'parent',
  'mother',
  'father',
  'spouse',
  'partner',
  'referrer',
  'referral',
  'referred',
  'friend',
  'recipient',
  'sender',
  'manager',
  'assistant',
  'invitee',
  'inviter',
  'next_of_kin',
];

/** Objects whose traits describe an organization, not a person: their `name` or `address` is not PII. */
const ENTITY_OBJECTS: ReadonlySet<string> = new Set([
  'company',
  'organization',
  'organisation',
  'employer',
  'group',
  'business',
  'store',
  'shop',
  'merchant',
]);

export interface TraitKind {
  readonly kind: PiiKind;
  /** Whether the value is the customer's own (an identifier candidate) rather than someone else's. */
  readonly own: boolean;
}

/** The key as the catalogue compares it: accents, case and everything but letters and digits dropped. */
export function normalizeKey(key: string): string {
  return key
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

const squash = (alias: string) => alias.replace(/_/g, '');
const BASES = new Map<string, PiiKind>(
  (Object.keys(CATALOGUE) as PiiKind[]).flatMap((kind) =>
    CATALOGUE[kind].map((a) => [squash(a), kind] as const),
  ),
);
// Longest first, so that `contact` is stripped before a shorter qualifier it starts with could be.
const QUALIFIERS: readonly (readonly [string, boolean])[] = [
  ...OWN_QUALIFIERS.map((q) => [squash(q), true] as const),
  ...OTHER_QUALIFIERS.map((q) => [squash(q), false] as const),
].sort((a, b) => b[0].length - a[0].length);

function lookup(name: string, qualifiersLeft: number): TraitKind | undefined {
  const kind = BASES.get(name);
  if (kind !== undefined) return { kind, own: true };
  if (qualifiersLeft === 0) return undefined;
  for (const [q, own] of QUALIFIERS) {
    if (name.length <= q.length) continue;
    const rest = name.startsWith(q) ? name.slice(q.length) : name.endsWith(q) ? name.slice(0, -q.length) : '';
    const found = rest === '' ? undefined : lookup(rest, qualifiersLeft - 1);
    if (found) return own ? found : { kind: found.kind, own: false };
  }
  return undefined;
}

/**
 * Bounded memo: clients send a small, stable set of trait names, looked up on every event. Once full it
 * stops learning (rather than evicting): a flood of random names costs a lookup each, never memory.
 */
const memo = new Map<string, TraitKind | null>();
const MEMO_MAX = 10_000;

/** The kind of PII a trait of this name holds, if the catalogue knows the name. */
export function traitKind(key: string): TraitKind | undefined {
  const known = memo.get(key);
  if (known !== undefined) return known ?? undefined;
  const found = key.length > 64 ? undefined : lookup(normalizeKey(key).replace(/\d+$/, ''), 2);
  if (memo.size < MEMO_MAX) memo.set(key, found ?? null);
  return found;
}

/** Whether an object under this key describes an organization (its name, address are not a person's). */
export function isEntityObject(key: string): boolean {
  return ENTITY_OBJECTS.has(normalizeKey(key));
}
