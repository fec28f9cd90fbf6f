import { useState } from 'preact/hooks';
import { TextField } from '../components';

export function SignIn({ onSignIn, error }: { onSignIn: (token: string) => void; error: string | null }) {
  const [value, setValue] = useState('');
  return (
    <main class="signin">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim() !== '') onSignIn(value.trim());
        }}
      >
        <h1>Pennon</h1>
        <p>Sign in with a token (admin, editor or viewer). It is kept for this tab only.</p>
        <TextField id="token" label="Token" secret autoComplete="off" required value={value} setValue={setValue} error={error} />
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
