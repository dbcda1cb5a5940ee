import type { ReactNode } from 'react';

export interface ControlProps {
  id: string;
  name: string;
  'aria-invalid': boolean;
  'aria-describedby': string;
}

/**
 * One labelled form control with its rule/default hint and the API's errors for it, tied
 * together with aria-describedby so a screen reader reads all three.
 */
export function Field({
  name,
  label,
  hint,
  errors = [],
  children,
}: {
  name: string;
  label?: string;
  hint?: ReactNode;
  errors?: string[];
  children: (props: ControlProps) => ReactNode;
}) {
  const id = `f-${name}`;
  const describedBy = [hint ? `${id}-hint` : '', errors.length ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className={errors.length ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label ?? name}</label>
      {children({ id, name, 'aria-invalid': errors.length > 0, 'aria-describedby': describedBy })}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {errors.length > 0 && (
        <p className="error" id={`${id}-error`} data-error-for={name}>
          {errors.join(' ')}
        </p>
      )}
    </div>
  );
}

/** The API's `details` grouped by the form field they name (`headers.X-A` belongs to `headers`). */
export function errorsByField(details: { path: string; message: string }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of details) {
    const field = d.path.split('.')[0] || '_form';
    (out[field] ??= []).push(d.path.includes('.') ? `${d.path}: ${d.message}` : d.message);
  }
  return out;
}
